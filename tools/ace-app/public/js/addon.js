// Both pages: ask the site who is looking (AP.request, as that user), then
// send a context token (AP.context.getToken) to the app's own server, which
// verifies it with addon.checkValidToken() and answers the user it verified.
function show(id, state, text, accountId) {
  var element = document.getElementById(id);
  element.setAttribute("data-state", state);
  if (accountId) element.setAttribute("data-account-id", accountId);
  element.textContent = text;
}

function failed(id) {
  return function (error) {
    var reason = error && error.xhr ? "HTTP " + error.xhr.status : String(error && error.message || error);
    show(id, "failed", "Failed: " + reason);
  };
}

AP.request("/rest/api/3/myself").then(function (response) {
  var me = JSON.parse(response.body);
  show("myself", "done", "The site says you are " + me.displayName, me.accountId);
}, failed("myself"));

new Promise(function (resolve) { AP.context.getToken(resolve); })
  .then(function (token) {
    return fetch("/whoami", { headers: { Authorization: "JWT " + token } });
  })
  .then(function (response) {
    if (!response.ok) throw new Error("HTTP " + response.status + " from /whoami");
    return response.json();
  })
  .then(function (who) {
    show("whoami", "done", "The app verified " + who.accountId, who.accountId);
  }, failed("whoami"));
