"""The flows: what a request or an event does, step by step, through the rules and the AWS
adapters. Routes and event handlers call them; they never import routes."""
