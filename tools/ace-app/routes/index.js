// The app's routes, as in ACE's template: the descriptor at `/`, one page per
// module (verified with addon.authenticate(): the host-signed iframe token),
// and one JSON route for the pages' own calls (addon.checkValidToken(): a
// context token from AP.context.getToken()).
module.exports = function (app, addon) {
  app.get("/", (req, res) => {
    res.format({
      "text/html": () => res.redirect("/atlassian-connect.json"),
      "application/json": () => res.redirect("/atlassian-connect.json")
    });
  });

  // generalPages "hello-world"
  app.get("/hello-world", addon.authenticate(), (req, res) => {
    res.render("hello-world", { title: "Hello from ACE" });
  });

  // webPanels "issue-panel" (on the Jira issue view)
  app.get("/issue-panel", addon.authenticate(), (req, res) => {
    res.render("issue-panel", { title: "ACE issue panel", issueKey: req.query.issueKey });
  });

  // Called by the pages with `Authorization: JWT <AP.context.getToken()>`:
  // answers who ACE verified.
  app.get("/whoami", addon.checkValidToken(), (req, res) => {
    res.json({
      clientKey: req.context.clientKey,
      accountId: req.context.userAccountId || null
    });
  });

  // ACE mounts `installed` itself; `uninstalled` is the app's, verified the
  // way ACE's README says (the RS256 signed install).
  app.post("/uninstalled", addon.authenticateInstall(), async (req, res) => {
    await addon.settings.del(req.body.clientKey);
    console.log(`uninstalled by ${req.body.clientKey}`);
    res.status(204).end();
  });
};
