"""Resource providers for LocalStack's free edition, for omc-cdk's end-to-end tests."""
