//! The OMC infrastructure as omc-cdk apps: a network, data and services stack per environment.
//!
//! `cargo run -p apps --bin staging -- synth` writes the staging templates to `omc.out/`.

pub mod config;
pub mod data;
pub mod network;
pub mod services;

use omc_cdk::{App, RawResource, Result, StackProps, TagFormat};

pub use config::{Config, Stage};

/// The app for an environment: network, data and services stacks, wired with cross-stack
/// references.
pub fn app(config: &Config, name: &str) -> Result<App> {
    let app = App::new().named(name, env!("CARGO_PKG_VERSION"));
    let network = network::network(&app, config)?;
    let data = data::data(&app, config, &network)?;
    services::services(&app, config, &network, &data)?;
    Ok(app)
}

/// The staging app.
pub fn staging() -> Result<App> {
    app(&Config::staging(), "staging")
}

/// The production app.
pub fn production() -> Result<App> {
    app(&Config::production(), "production")
}

pub(crate) fn stack_props(config: &Config, description: &str) -> StackProps {
    StackProps {
        env: Some(config.env.clone()),
        description: Some(description.to_owned()),
        tags: config.tags.clone(),
        termination_protection: config.deletion_protection,
    }
}

/// A resource of a type that takes tags as a `Tags` list.
pub(crate) fn tagged(type_name: &str) -> RawResource {
    RawResource::new(type_name).tags(TagFormat::KeyValueList("Tags".into()))
}
