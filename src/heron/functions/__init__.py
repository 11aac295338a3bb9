"""The Lambda handlers: plain ``handler(event, context)`` modules that run unchanged on AWS Lambda."""
