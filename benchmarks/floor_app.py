"""The floor of the incoming-call comparison (benchmarks/wait_loop.py --compare): a WSGI app that
answers every request with one constant TwiML menu of about the size of Tsunagu's, without
reading the request, checking a signature or touching a database. Served by the same gunicorn
settings as the app, its median is what the server, the proxy and the load generator cost alone.

    .venv/bin/python -m gunicorn benchmarks.floor_app:application
"""

TWIML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Response>'
    b'<Gather action="/twilio/ivr/flows/1/steps/2/gather" method="POST" numDigits="1" timeout="5">'
    b'<Say language="ja-JP" voice="Polly.Mizuki">'
    b"\xe3\x81\x8a\xe9\x9b\xbb\xe8\xa9\xb1\xe3\x81\x82\xe3\x82\x8a\xe3\x81\x8c\xe3\x81\xa8\xe3"
    b"\x81\x86\xe3\x81\x94\xe3\x81\x96\xe3\x81\x84\xe3\x81\xbe\xe3\x81\x99\xe3\x80\x82"
    b"</Say></Gather>"
    b'<Redirect method="POST">/twilio/ivr/flows/1/steps/2/no-input</Redirect></Response>'
)
HEADERS = [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(TWIML)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [TWIML]
