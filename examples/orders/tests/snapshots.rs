//! The Orders stack's template, locked: a change to it is a reviewed diff.
#![allow(clippy::unwrap_used)]

use omc_cdk::assertions::Template;
use serde_json::json;

#[test]
fn the_template_is_locked() {
    let synthesis = example_orders::app().unwrap().synth().unwrap();
    for stack in synthesis.stacks() {
        insta::assert_snapshot!(stack.template_file(), stack.template());
    }
}

#[test]
fn the_worker_may_only_consume_orders_and_write_receipts() {
    let synthesis = example_orders::app().unwrap().synth().unwrap();
    let t = Template::from_synthesized(synthesis.stack("Orders-Worker").unwrap());
    let (_, role) = t
        .resources("AWS::IAM::Role")
        .into_iter()
        .find(|(id, _)| id.starts_with("WorkerTaskRole"))
        .unwrap();
    let statements = &role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
    assert_eq!(statements.as_array().unwrap().len(), 3);
    // The orders queue (the one with a dead-letter queue), and nothing else.
    let (orders, _) = t
        .resources("AWS::SQS::Queue")
        .into_iter()
        .find(|(_, q)| q["Properties"].get("RedrivePolicy").is_some())
        .unwrap();
    assert_eq!(
        statements[0]["Resource"],
        json!({"Fn::GetAtt": [orders, "Arn"]})
    );
    assert!(
        !statements[0]["Action"]
            .as_array()
            .unwrap()
            .contains(&json!("sqs:SendMessage"))
    );
    assert_eq!(statements[1]["Action"], "s3:PutObject");
    // Decrypting the orders, with the queue key only.
    let (queue_key, _) = t
        .resources("AWS::KMS::Key")
        .into_iter()
        .find(|(id, _)| id.starts_with("QueueKey"))
        .unwrap();
    assert_eq!(statements[2]["Action"], "kms:Decrypt");
    assert_eq!(
        statements[2]["Resource"],
        json!({"Fn::GetAtt": [queue_key, "Arn"]})
    );
    t.has_resource_properties(
        "AWS::SQS::Queue",
        json!({"VisibilityTimeout": 300, "RedrivePolicy": {"maxReceiveCount": 5}}),
    )
    .unwrap();
}
