"""The SAM transform, run locally with aws-sam-translator (the library CloudFormation runs).

``heron deploy`` sends the expanded template: the same bytes go to AWS and to a local
CloudFormation endpoint (moto has no SAM transform), and the stack needs no
``CAPABILITY_AUTO_EXPAND``. No AWS call is made: the template names no managed policies, so
the translator's policy lookup is never needed.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

from heron.deploy.names import DeployError


def expand(template: dict[str, Any], region: str) -> dict[str, Any]:
    """``template`` with its ``AWS::Serverless`` resources expanded to plain CloudFormation."""
    try:
        boto3 = importlib.import_module("boto3")
        invalid = importlib.import_module("samtranslator.model.exceptions").InvalidDocumentException
        parser = importlib.import_module("samtranslator.parser.parser").Parser
        translator_class = importlib.import_module("samtranslator.translator.translator").Translator
    except ImportError:
        raise DeployError(
            "the SAM transform needs aws-sam-translator: pip install 'heron[aws]'"
        ) from None
    # The translator reads only the region from the session (for ARNs); no credentials needed.
    session = boto3.Session(region_name=region)
    translator = translator_class(None, parser(), None, session)
    try:
        out: dict[str, Any] = translator.translate(
            copy.deepcopy(template), parameter_values={}, get_managed_policy_map=dict
        )
    except invalid as exc:
        causes = "; ".join(str(c) for c in exc.causes)
        raise DeployError(f"the SAM transform rejected the template: {causes}") from None
    return out
