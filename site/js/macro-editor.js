// The Checklist macro's editor (descriptor: `dynamicContentMacros[checklist]
// .editor.url`). Confluence opens it in a dialog when someone inserts or
// edits the macro; it edits the macro's one parameter, `title`.
//
// Confluence keeps macro parameters in the page, not the app: the editor
// reads them with AP.confluence.getMacroData and hands new ones back with
// AP.confluence.saveMacro; Confluence then substitutes them into the macro's
// URL (`&title={title}`), which is how macro.html learns its title. The
// checklist itself is not here: it lives in a content property.
(function () {
  'use strict';

  const DEFAULT_TITLE = 'Checklist';
  const MAX_CHARS = 100;
  const byId = (id) => document.getElementById(id);

  function status(text) {
    byId('status').textContent = text;
  }

  // The parameters of the macro instance being edited; `{}` when the macro
  // is being inserted (it has none yet).
  function macroData(AP) {
    return new Promise((resolve) => {
      AP.confluence.getMacroData((data) => resolve(data || {}));
    });
  }

  lodger.ready.then(async (AP) => {
    const input = byId('title');
    const params = await macroData(AP);
    input.value = typeof params.title === 'string' ? params.title : DEFAULT_TITLE;
    input.disabled = false;
    byId('save').disabled = false;
    input.focus();
    input.select();
    AP.resize();

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
        AP.resize();
        return false;
      }
      byId('save').disabled = true;
      status('Saving\u2026');
      // Every parameter is text. saveMacro is fire-and-forget on Atlassian's
      // Confluence; closing right after is the documented pattern.
      AP.confluence.saveMacro({ title: title });
      AP.confluence.closeMacroEditor();
      return true;
    }

    byId('editor').addEventListener('submit', (event) => {
      event.preventDefault();
      submit();
    });

    // Confluence may draw its own Save button in the dialog's chrome; the
    // documented pattern binds it too. Hosts without one (the dev host) have
    // nothing to bind, which is fine: the form's own Save does the same.
    try {
      const chrome = AP.dialog && typeof AP.dialog.getButton === 'function' && AP.dialog.getButton('submit');
      if (chrome && typeof chrome.bind === 'function') chrome.bind(submit);
    } catch (_) { /* no dialog chrome */ }
  }, (error) => {
    status(error.message);
  });

  byId('cancel').addEventListener('click', () => {
    lodger.ready.then((AP) => AP.confluence.closeMacroEditor());
  });
})();
