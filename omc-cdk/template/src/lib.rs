//! The read-side model of synthesized CloudFormation templates: what omc-cdk's checks, cost
//! estimates and diffs share.
//!
//! [`Model`] reads the templates of an app (synthesized, or from a directory) with references
//! followed across stacks: a [`ResourceView`] gives a resource's properties with parameter
//! defaults and imported values resolved, the resource a reference points to and the resources
//! that refer to it. [`diff`] compares two templates resource by resource, [`schema`] says which
//! property changes replace a resource, [`schedule`] parses the schedule expressions of
//! EventBridge Scheduler and rules (`rate`, `cron` with `L`, `W` and `#`, `at`) and counts their
//! runs, for the constructs that write them and the cost estimates that read them. Pure: no
//! I/O, no dependency on how the templates were made.
//!
//! ```
//! use omc_cdk_template::{Model, Stage, StackInput};
//! let template = serde_json::json!({"Resources": {
//!     "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 5}}
//! }});
//! let model = Model::new(&[StackInput { name: "Jobs", template: &template, stage: Stage::Production, paths: None }]);
//! let queue = model.resources().next().unwrap();
//! assert_eq!(queue.type_name(), "AWS::SQS::Queue");
//! assert_eq!(queue.prop("DelaySeconds"), Some(&serde_json::json!(5)));
//! ```

pub mod constraints;
pub mod diff;
pub mod graph;
mod model;
pub mod review;
pub mod schedule;
pub mod schema;
mod stage;
mod synth_dir;
mod values;

pub use model::{Model, ResourceView, StackInput};
pub use stage::Stage;
pub use synth_dir::{SynthDirStack, read_synth_dir, read_synth_dir_stacks};
pub use values::{container_insights, integer, items};
