"""Lambda functions of the event-driven half; the deployed code root is infra/ (the CodeUri)."""
