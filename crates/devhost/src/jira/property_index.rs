//! Which issue properties are searchable (Atlassian: "Entity property"
//! module, `jiraEntityProperties`; Forge's `jira:entityProperty`): the paths
//! enabled apps index, read from their descriptors and manifests, which is what makes `issue.property[key].path` and
//! extraction aliases usable in JQL ([`super::jql`]).
//!
//! What it is not: an index of values; the search reads each issue's
//! properties as it runs.

use super::jql_run::{Extraction, ExtractionType};
use crate::platform::installation::as_list;
use crate::site::SiteData;

/// The issue property paths the enabled apps index, from their descriptors'
/// `modules.jiraEntityProperties` (Atlassian: "Entity property" module:
/// `entityType` (default `issue`), `keyConfigurations[].propertyKey`,
/// `extractions[{objectName, type, alias}]`). Sorted by app key, so that
/// when two apps index one path the first app's type wins, every time.
pub fn index(data: &SiteData) -> Vec<Extraction> {
    let mut installs: Vec<_> = data.installs.values().filter(|i| i.enabled).collect();
    installs.sort_by(|a, b| a.app_key.cmp(&b.app_key));
    let mut index = Vec::new();
    for install in installs {
        for module in as_list(&install.descriptor["modules"]["jiraEntityProperties"]) {
            let entity_type = module["entityType"].as_str().unwrap_or("issue");
            if !entity_type.eq_ignore_ascii_case("issue") {
                continue;
            }
            for configuration in as_list(&module["keyConfigurations"]) {
                let Some(property_key) = configuration["propertyKey"].as_str() else { continue };
                for extraction in as_list(&configuration["extractions"]) {
                    let Some(object_name) = extraction["objectName"].as_str() else { continue };
                    let kind = ExtractionType::named(extraction["type"].as_str());
                    index.push(Extraction {
                        property_key: property_key.to_owned(),
                        object_name: object_name.to_owned(),
                        kind,
                        alias: extraction["alias"].as_str().map(str::to_owned),
                    });
                }
            }
        }
    }
    // Forge apps declare theirs as `jira:entityProperty` (sorted by app id).
    let mut forge: Vec<_> = data.forge.installs.values().collect();
    forge.sort_by(|a, b| a.app_id.cmp(&b.app_id));
    index
        .extend(forge.into_iter().flat_map(|install| install.manifest.extractions.iter().cloned()));
    index
}
