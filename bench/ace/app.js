// The comparison app for bench/run.sh: as small as atlassian-connect-express
// allows, configured as its docs say for production (NODE_ENV=production,
// its default store). Two routes, one per benchmark case:
//
//   GET /api/whoami   addon.checkValidToken(): the documented check for AJAX
//                     calls (context token in `Authorization: JWT ...`)
//   GET /issue-panel  addon.authenticate(): the iframe page with the
//                     host-signed `jwt` query parameter, rendering a template
//
// The tenant is put into ACE's store with the same call its `/installed`
// route makes (settings.saveInstallation), from BENCH_CLIENT_INFO (JSON), so
// no network is needed for Atlassian's signed-install keys.
const express = require("express");
const hbs = require("express-hbs");
const ace = require("atlassian-connect-express");

const app = express();
const addon = ace(app);

app.set("port", addon.config.port());
app.engine("hbs", hbs.express4({ partialsDir: __dirname + "/views" }));
app.set("view engine", "hbs");
app.set("views", __dirname + "/views");
app.use(express.json());
app.use(addon.middleware());

app.get("/healthz", (req, res) => res.send("ok"));

app.get("/api/whoami", addon.checkValidToken(), (req, res) => {
  res.json({
    clientKey: req.context.clientKey,
    accountId: req.context.userAccountId || null,
    context: req.context.context || null
  });
});

app.get("/issue-panel", addon.authenticate(), (req, res) => {
  res.render("issue-panel", { title: "Checklist" });
});

async function main() {
  if (process.env.BENCH_CLIENT_INFO) {
    const clientInfo = JSON.parse(process.env.BENCH_CLIENT_INFO);
    await addon.settings.saveInstallation(clientInfo, clientInfo.clientKey);
  }
  app.listen(addon.config.port(), "127.0.0.1", () => {
    console.log(`ace listening on ${addon.config.port()}`);
  });
}

main().catch(err => {
  console.error(err);
  process.exit(1);
});
