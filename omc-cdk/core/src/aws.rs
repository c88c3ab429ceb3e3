//! CloudFormation's pseudo parameters, as typed values.
//!
//! ```
//! use omc_cdk::{aws, fns, Value};
//! // arn:${AWS::Partition}:s3:::logs
//! let bucket_arn = fns::join(":", [Value::from("arn"), aws::partition(), "s3".into(), "".into(), "".into(), "logs".into()]);
//! # let _ = bucket_arn;
//! ```

use crate::value::{Expr, Intrinsic, Pseudo, RefTarget, Value};

fn pseudo<T>(p: Pseudo) -> Value<T> {
    Value::Fn(Expr::new(Intrinsic::Ref(RefTarget::Pseudo(p))))
}

/// `AWS::AccountId`: the account the stack is deployed to.
pub fn account_id() -> Value<String> {
    pseudo(Pseudo::AccountId)
}

/// `AWS::Region`: the region the stack is deployed to.
pub fn region() -> Value<String> {
    pseudo(Pseudo::Region)
}

/// `AWS::Partition`: `aws`, `aws-cn` or `aws-us-gov`.
pub fn partition() -> Value<String> {
    pseudo(Pseudo::Partition)
}

/// `AWS::StackName`
pub fn stack_name() -> Value<String> {
    pseudo(Pseudo::StackName)
}

/// `AWS::StackId`
pub fn stack_id() -> Value<String> {
    pseudo(Pseudo::StackId)
}

/// `AWS::URLSuffix`: `amazonaws.com` in most partitions.
pub fn url_suffix() -> Value<String> {
    pseudo(Pseudo::UrlSuffix)
}

/// `AWS::NotificationARNs`: the SNS topics the stack notifies.
pub fn notification_arns() -> Value<Vec<Value<String>>> {
    pseudo(Pseudo::NotificationArns)
}

/// `AWS::NoValue`: removes the property it is assigned to, typically in one branch of
/// [`crate::fns::if_`]. Fits a property of any type.
pub fn no_value<T>() -> Value<T> {
    pseudo(Pseudo::NoValue)
}
