//! Fixtures for tests and benchmarks (feature `testing`).

use crate::error::Result;
use crate::fns;
use crate::resource::RawResource;
use crate::schema::TagFormat;
use crate::stack::StackProps;
use crate::tree::{App, Stack};
use crate::value::Value;

/// Resources per stack in [`synthetic_app`], under CloudFormation's 500.
pub const RESOURCES_PER_STACK: usize = 400;

/// An app and one empty stack named `Test`, for construct tests.
pub fn stack() -> Result<(App, Stack)> {
    let app = App::new();
    let stack = Stack::new(&app, "Test", StackProps::default())?;
    Ok((app, stack))
}

/// An app with about `resources` resources, spread over stacks of at most
/// [`RESOURCES_PER_STACK`], shaped like real stacks: tagged resources, `Ref`, `Fn::GetAtt`,
/// `Fn::Sub` with variables, and a reference from each stack into the previous one (so every
/// stack imports an export).
pub fn synthetic_app(resources: usize) -> Result<App> {
    let app = App::new();
    let mut remaining = resources.max(1);
    let mut previous_topic: Option<Value<String>> = None;
    let mut index = 0;
    while remaining > 0 {
        let here = remaining.min(RESOURCES_PER_STACK);
        remaining -= here;
        let mut props = StackProps::default();
        props.tags.insert("Project".into(), "synthetic".into());
        props.tags.insert("Tier".into(), index.to_string());
        let stack = Stack::new(&app, &format!("Tier{index:03}"), props)?;
        let topic = stack.child("Events")?.add(
            "Resource",
            RawResource::new("AWS::SNS::Topic")
                .property("DisplayName", format!("tier {index} events"))
                .property("KmsMasterKeyId", "alias/aws/sns")
                .tags(TagFormat::KeyValueList("Tags".into())),
        )?;
        let mut added = 1;
        let mut unit = 0;
        while added < here {
            let scope = stack.child(&format!("Unit{unit}"))?;
            let queue = scope.add(
                "Queue",
                RawResource::new("AWS::SQS::Queue")
                    .property(
                        "QueueName",
                        fns::sub(format!("${{AWS::StackName}}-unit-{unit}")),
                    )
                    .property("VisibilityTimeout", 30)
                    .tags(TagFormat::KeyValueList("Tags".into())),
            )?;
            added += 1;
            if added < here {
                scope.add(
                    "Subscription",
                    RawResource::new("AWS::SNS::Subscription")
                        .property("TopicArn", topic.reference())
                        .property("Protocol", "sqs")
                        .property("Endpoint", queue.get_att::<String>("Arn")),
                )?;
                added += 1;
            }
            if added < here {
                let upstream = previous_topic.clone().unwrap_or_else(|| topic.reference());
                scope.add(
                    "Setting",
                    RawResource::new("AWS::SSM::Parameter")
                        // Named and untagged: moto (the deploy tests' light endpoint) fails to
                        // create an unnamed parameter, or one with tags in the map form
                        // CloudFormation takes for SSM.
                        .property(
                            "Name",
                            fns::join(
                                "",
                                [
                                    Value::from("/synthetic/"),
                                    crate::aws::stack_name(),
                                    Value::from(format!("/unit-{unit}")),
                                ],
                            ),
                        )
                        .property("Type", "String")
                        .property(
                            "Value",
                            fns::sub_with(
                                "${Queue}|${Upstream}",
                                [("Queue", queue.reference()), ("Upstream", upstream)],
                            ),
                        ),
                )?;
                added += 1;
            }
            unit += 1;
        }
        previous_topic = Some(topic.reference());
        index += 1;
    }
    Ok(app)
}
