"""What kind of request each endpoint makes: how it may be sent again, queued, and read.

The endpoints pick one of these; the transport, the retry decision and the body decoding each
read the part that concerns them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestPolicy:
    """How one kind of request is sent again, queued, and read."""

    # Retry 5xx answers and failures after which the request may have reached the server.
    after_ambiguous_failure: bool
    # A change: a 2xx body saying it failed is the API's refusal, whatever else the body holds.
    writes: bool = False
    # May run for minutes: goes through the smaller pool of action slots as well.
    long_action: bool = False
    # A 2xx body saying it failed is this request's answer (a connection test that failed), not an error.
    failure_body_is_answer: bool = False


IDEMPOTENT = RequestPolicy(after_ambiguous_failure=True)
IDEMPOTENT_WRITE = RequestPolicy(after_ambiguous_failure=True, writes=True)  # PUT, DELETE
# A create that may have reached the server is never sent again: it could make a duplicate.
CREATE = RequestPolicy(after_ambiguous_failure=False, writes=True)
# Tests and refreshes are sent once: a second one would overlap the first, still running upstream.
TEST = RequestPolicy(after_ambiguous_failure=False, long_action=True, failure_body_is_answer=True)
REFRESH = RequestPolicy(after_ambiguous_failure=False, writes=True, long_action=True)
# A query is sent once: after a timeout or a 5xx a second run would load the source again for an answer
# that most likely fails the same way. A statement the database refuses (`success: false`) is an answer.
QUERY = RequestPolicy(after_ambiguous_failure=False, failure_body_is_answer=True)
