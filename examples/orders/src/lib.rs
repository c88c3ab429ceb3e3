//! The Orders team's infrastructure, written as any team outside the platform would write it:
//! only against the public API of `omc-cdk`, `omc-constructs` and `omc-cfn`.
//!
//! One stack, `Orders-Worker`: a VPC and an ECS cluster of its own; an SQS queue of incoming
//! orders with a dead-letter queue, both encrypted with the team's queue key; an S3 bucket of
//! receipts, whose server access logs go to an access-log bucket; a Fargate worker that reads
//! the queue and writes the bucket, scaling on CPU; alarms on the worker, on the age of the
//! oldest order and on orders that failed into the dead-letter queue. Every log group (the
//! worker's, the VPC's flow logs) is encrypted with the team's logs key.
//!
//! ```sh
//! cargo run -p example-orders -- synth
//! ```

use omc_cdk::{
    AnyValue, App, Environment, IndexMap, IntoNode, Node, OutputProps, ParameterProps, Result,
    Stack, StackProps,
};
use omc_cfn::{cloudwatch, sqs};
use omc_constructs::{
    AccessLogBucket, AccessLogBucketProps, Autoscaling, Bucket, BucketProps, Cluster, ClusterProps,
    ContainerImage, ContainerProps, FargateService, FargateServiceProps, Key, KeyProps, Monitoring,
    MonitoringProps, PolicyStatement, ServerAccessLogs, Vpc, VpcProps,
};

/// Seconds a worker has to process an order before another worker may take it.
const VISIBILITY_TIMEOUT: i64 = 300;

/// The Orders app.
pub fn app() -> Result<App> {
    let app = App::new().named("orders", env!("CARGO_PKG_VERSION"));
    let stack = Stack::new(
        &app,
        "Orders-Worker",
        StackProps {
            env: Some(Environment::region("eu-west-1")),
            description: Some("Orders: the queue worker, its queues and receipts".into()),
            tags: [("Team".to_owned(), "orders".to_owned())].into(),
            termination_protection: false,
            stage: Some(omc_cdk::Stage::Production),
        },
    )?;
    // The logs key encrypts every log group; the queue key the orders (whoever sends orders
    // needs kms:GenerateDataKey and kms:Decrypt on it, granted in their own IAM policy).
    let logs_key = Key::new(
        &stack,
        "LogsKey",
        KeyProps {
            description: Some("Orders: encrypts the worker's and the VPC's log groups".into()),
            alias: Some("alias/orders/logs".into()),
            ..KeyProps::default()
        },
    )?;
    let queue_key = Key::new(
        &stack,
        "QueueKey",
        KeyProps {
            description: Some("Orders: encrypts the orders and dead-letter queues".into()),
            alias: Some("alias/orders/queues".into()),
            ..KeyProps::default()
        },
    )?;
    let vpc = Vpc::new(
        &stack,
        "Vpc",
        VpcProps {
            cidr: "10.20.0.0/16".into(),
            flow_log_key: Some(logs_key.clone()),
            ..VpcProps::default()
        },
    )?;
    let cluster = Cluster::new(&stack, "Cluster", ClusterProps::new(&vpc))?;

    // Orders that fail five times move to the dead-letter queue and stay two weeks.
    let dead_letters = stack.add(
        "DeadLetters",
        sqs::Queue {
            message_retention_period: Some(1_209_600.into()),
            kms_master_key_id: Some(queue_key.key_arn()),
            ..sqs::Queue::new()
        },
    )?;
    let orders = stack.add(
        "Orders",
        sqs::Queue {
            visibility_timeout: Some(VISIBILITY_TIMEOUT.into()),
            kms_master_key_id: Some(queue_key.key_arn()),
            redrive_policy: Some(AnyValue::new(Node::map([
                ("deadLetterTargetArn", dead_letters.attr_arn().into_node()),
                ("maxReceiveCount", Node::Int(5)),
            ]))),
            ..sqs::Queue::new()
        },
    )?;
    let access_logs = AccessLogBucket::new(&stack, "AccessLogs", AccessLogBucketProps::new(365))?;
    let receipts = Bucket::new(
        &stack,
        "Receipts",
        BucketProps {
            versioned: true,
            archive_after_days: Some(90),
            expire_after_days: Some(2555),
            access_logs: Some(ServerAccessLogs::new(&access_logs, "receipts/")),
            ..BucketProps::default()
        },
    )?;

    let tag = stack.add_parameter(
        "WorkerImageTag",
        ParameterProps {
            default: Some("1.0.0".into()),
            description: Some("Tag of orders/worker to deploy".into()),
            ..ParameterProps::default()
        },
    )?;
    let mut environment = IndexMap::new();
    environment.insert("ORDERS_QUEUE_URL".to_owned(), orders.attr_queue_url());
    environment.insert("RECEIPTS_BUCKET".to_owned(), receipts.bucket_name());
    let worker = FargateService::new(
        &stack,
        "Worker",
        FargateServiceProps {
            autoscaling: Some(Autoscaling::new(1, 4)),
            log_key: Some(&logs_key),
            ..FargateServiceProps::new(
                &cluster,
                vec![ContainerProps {
                    environment,
                    ..ContainerProps::new(
                        "worker",
                        ContainerImage::ecr_repository("orders/worker", tag.value()),
                    )
                }],
            )
        },
    )?;
    // Exactly what the worker does: consume orders, write receipts.
    worker.task_role().add_to_policy(PolicyStatement::allow(
        [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ],
        [orders.attr_arn()],
    ));
    worker.task_role().add_to_policy(PolicyStatement::allow(
        ["s3:PutObject"],
        [receipts.objects_arn("receipts/*")],
    ));
    // Receiving from a queue under a KMS key decrypts the messages.
    queue_key.grant_decrypt(worker.task_role());

    let monitoring = Monitoring::new(&stack, "Monitoring", MonitoringProps::default())?;
    worker.add_alarms(&monitoring)?;
    for (id, queue, metric, threshold, description) in [
        (
            "OrdersWaiting",
            &orders,
            "ApproximateAgeOfOldestMessage",
            600.0,
            "Orders wait more than 10 minutes",
        ),
        (
            "OrdersFailed",
            &dead_letters,
            "ApproximateNumberOfMessagesVisible",
            1.0,
            "Orders failed into the dead-letter queue",
        ),
    ] {
        stack.add(
            id,
            cloudwatch::Alarm {
                alarm_description: Some(description.into()),
                namespace: Some("AWS/SQS".into()),
                metric_name: Some(metric.into()),
                dimensions: Some(
                    vec![cloudwatch::alarm::Dimension::new(
                        "QueueName",
                        queue.attr_queue_name(),
                    )]
                    .into(),
                ),
                statistic: Some("Maximum".into()),
                period: Some(300.into()),
                evaluation_periods: Some(1.into()),
                threshold: Some(threshold.into()),
                comparison_operator: Some("GreaterThanOrEqualToThreshold".into()),
                treat_missing_data: Some("notBreaching".into()),
                alarm_actions: Some(vec![monitoring.alarm_topic_arn()].into()),
                ..cloudwatch::Alarm::new()
            },
        )?;
    }
    stack.add_output(
        "OrdersQueueUrl",
        orders.attr_queue_url(),
        OutputProps {
            description: Some("Where the shop sends orders".into()),
            ..OutputProps::default()
        },
    )?;
    Ok(app)
}
