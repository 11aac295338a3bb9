"""Deploy Heron to AWS: a CloudFormation (SAM) template synthesized from Heron's own definitions.

``synth.synthesize`` builds the template from the declared functions, the four tables, the alarm
files and catalogue, the topics and the dashboard; ``stack`` deploys it with a change set.
"""
