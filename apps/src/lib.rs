//! The OMC infrastructure as omc-cdk apps.
