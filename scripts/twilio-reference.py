#!/usr/bin/env python3
"""Answers with the official `twilio` library what our Swift code computes, for the tests to compare.

Reads JSON on stdin:
  {"signatures": [{"url": ..., "params": {...}, "token": ..., "signature": ...}],
   "twiml": [[{"verb": "say", "text": ..., "voice": ..., "language": ...}, {"verb": "play", "url": ..., "loop": 2}, ...]]}
Writes JSON on stdout:
  {"signatures": [computed signature, ...], "valid": [RequestValidator.validate(...) of the given signature, ...],
   "twiml": [VoiceResponse as a string, ...]}
"""
import json
import sys

from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse


def twiml(verbs):
    response = VoiceResponse()
    for verb in verbs:
        kind = verb["verb"]
        if kind == "say":
            options = {key: verb[key] for key in ("voice", "language") if verb.get(key)}
            response.say(verb["text"], **options)
        elif kind == "play":
            options = {"loop": verb["loop"]} if verb.get("loop") else {}
            response.play(verb["url"], **options)
        elif kind == "pause":
            response.pause(length=verb["length"])
        elif kind == "hangup":
            response.hangup()
        else:
            raise ValueError("unknown verb %r" % kind)
    return str(response)


def main():
    request = json.load(sys.stdin)
    signatures, valid = [], []
    for case in request.get("signatures", []):
        validator = RequestValidator(case["token"])
        signatures.append(validator.compute_signature(case["url"], case["params"]))
        valid.append(validator.validate(case["url"], case["params"], case["signature"]))
    json.dump({"signatures": signatures, "valid": valid, "twiml": [twiml(verbs) for verbs in request.get("twiml", [])]}, sys.stdout)


if __name__ == "__main__":
    main()
