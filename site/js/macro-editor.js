// The Checklist macro's editor (descriptor: `dynamicContentMacros[checklist]
// .editor.url`). Confluence opens it in a dialog when someone inserts or
// edits the macro; it edits the macro's one parameter, `title`.
//
// Confluence keeps macro parameters in the page, not the app: the editor
// reads them with lodger.macro.config() and hands new ones back with
// lodger.macro.save() (bridge.js: Connect's getMacroData/saveMacro, Forge's
// macro config). Confluence then gives them to macro.html (Connect: in its
// URL, `&title={title}`; Forge: `extension.config`). The checklist itself
// is not here: it lives in a content property.
(function () {
  'use strict';

  const DEFAULT_TITLE = 'Checklist';
  const MAX_CHARS = 100;
  const byId = (id) => document.getElementById(id);

  function status(text) {
    byId('status').textContent = text;
  }

  lodger.ready.then(async () => {
    const input = byId('title');
    // `{}` when the macro is being inserted (it has no parameters yet).
    const params = await lodger.macro.config();
    input.value = typeof params.title === 'string' ? params.title : DEFAULT_TITLE;
    input.disabled = false;
    byId('save').disabled = false;
    input.focus();
    input.select();
    lodger.resize();

    // Returns true when it saved (the editor is closing), false when the
    // title needs fixing first.
    function submit() {
      const title = input.value.trim();
      const error = byId('title-error');
      const problem = !title ? 'A checklist needs a title.' : title.length > MAX_CHARS ? 'At most ' + MAX_CHARS + ' characters.' : '';
      error.textContent = problem;
      error.hidden = !problem;
      input.setAttribute('aria-invalid', String(Boolean(problem)));
      if (problem) {
        input.focus();
        lodger.resize();
        return false;
      }
      byId('save').disabled = true;
      status('Saving\u2026');
      // Every parameter is text.
      lodger.macro.save({ title: title }).catch((error) => {
        byId('save').disabled = false;
        status('Not saved: ' + error.message);
      });
      return true;
    }

    byId('editor').addEventListener('submit', (event) => {
      event.preventDefault();
      submit();
    });

    // Connect's Confluence may draw its own Save button in the dialog's
    // chrome; the documented pattern binds it too. Hosts without one have
    // nothing to bind, which is fine: the form's own Save does the same.
    lodger.macro.bindSubmit(submit);
  }, (error) => {
    status(error.message);
  });

  byId('cancel').addEventListener('click', () => {
    lodger.macro.close();
  });
})();
