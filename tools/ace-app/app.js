// An atlassian-connect-express (ACE) 11.5.3 app in the shape of the default
// template (`atlas-connect new`): express, ACE's middleware, handlebars views,
// routes in routes/index.js, and in development `addon.register()` once the
// server listens. Written for lodger's tests (tests/ace_app.rs); nothing in it
// knows about lodger: the emulated site is reached only through config.json
// (`hosts`) and the environment ACE reads (AC_LOCAL_BASE_URL,
// CONNECT_KEYS_CDN_URL), exactly as for a cloud site.
//
// ACE reads config.json and atlassian-connect.json from the working
// directory, so a test runs this file from a folder holding its own
// config.json (pointing at the site it started).
const http = require("http");
const path = require("path");
const express = require("express");
const hbs = require("express-hbs");
const ace = require("atlassian-connect-express");
const routes = require("./routes");

const app = express();
const addon = ace(app);
const port = addon.config.port();
const devEnv = app.get("env") === "development";

app.engine("hbs", hbs.express4({ partialsDir: path.join(__dirname, "views") }));
app.set("view engine", "hbs");
app.set("views", path.join(__dirname, "views"));
app.use(express.json());
app.use(express.urlencoded({ extended: false }));
app.use(express.static(path.join(__dirname, "public")));
app.use(addon.middleware());

routes(app, addon);

http.createServer(app).listen(port, () => {
  console.log(`App server running at ${addon.config.localBaseUrl()}`);
  if (devEnv) addon.register();
});
