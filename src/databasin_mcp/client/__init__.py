"""The Databasin API client: the only package that speaks HTTP.

Layers, each a module, data flowing down the list:
    endpoints   the catalogue: one method per API route (DatabasinClient)
    transport   the pooled HTTP client, slots, one attempt, the request loop
    retry       what to do after an attempt (a pure decision) and the headers it reads
    auth        which token a request carries, and when its source is read again
    failures    the words of every failure
    decoding    success and error bodies into scrubbed JSON, models and short quotes
    routes      URLs: the reference's, the real backend's v2 routes, which family answers
    policies    what kind of request each endpoint makes
"""

from ..params import MAX_ID
from .endpoints import DatabasinClient
from .retry import RateLimitInfo

__all__ = ["MAX_ID", "DatabasinClient", "RateLimitInfo"]
