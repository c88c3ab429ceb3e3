//! End-to-end tests of omc-cdk: the OMC apps' templates, determinism, cfn-lint.
