//! The `lodger` binary: parse flags, validate them, run. All the work is in
//! the library; this file decides only what is printed and the exit code.

use std::process::ExitCode;

use clap::Parser;
use lodger::cli::{Cli, Command, JwtCommand};
use lodger::commands::{self, Report};
use lodger::config::ServeConfig;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.log_format);
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<bool> {
    let report = match cli.command {
        Some(Command::Serve(args)) => {
            let config = ServeConfig::from_args(&args)?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(lodger::web::server::run(config))?;
            return Ok(true);
        }
        #[cfg(feature = "dev-host")]
        Some(Command::Dev(args)) => return dev(args),
        Some(Command::Register(args)) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let key = runtime.block_on(commands::register(&args))?;
            println!("installed {key} in {}", args.site);
            return Ok(true);
        }
        Some(Command::Export(args)) => commands::export(&args)?,
        Some(Command::Keygen) => commands::keygen(),
        Some(Command::Qsh(args)) => commands::qsh(&args),
        Some(Command::Jwt(JwtCommand::Decode(args))) => commands::jwt_decode(&args, lodger::now()),
        Some(Command::Descriptor(args)) => commands::descriptor(&args)?,
        #[cfg(feature = "dev-host")]
        None => {
            let defaults = Cli::parse_from(["lodger", "dev"]);
            let Some(Command::Dev(args)) = defaults.command else { unreachable!("parsed `dev`") };
            return dev(args);
        }
        #[cfg(not(feature = "dev-host"))]
        None => {
            // A lean build has no dev world: explain what there is.
            use clap::CommandFactory;
            Cli::command().print_help()?;
            return Ok(true);
        }
    };
    print!("{}", report.text);
    let Report { ok, .. } = report;
    Ok(ok)
}

#[cfg(feature = "dev-host")]
fn dev(args: lodger::cli::DevArgs) -> anyhow::Result<bool> {
    let options = lodger::dev::world::WorldOptions {
        app_port: args.port,
        host_port: args.host_port,
        node_modules: args.node_modules.unwrap_or_else(lodger::dev::default_node_modules),
        install_npm_packages: true,
        source_dir: (!args.embedded).then(lodger::dev::checkout_dir).flatten(),
        forge: !args.no_forge,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    if args.no_app {
        runtime.block_on(lodger::dev::world::run_sites(options, &args.install))?;
    } else {
        runtime.block_on(lodger::dev::world::run(options))?;
    }
    Ok(true)
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LODGER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
