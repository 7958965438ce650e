"""Which failures are outages (retry the batch later) and which are the event's fault (dead-letter)."""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from pymongo.errors import DuplicateKeyError, NetworkTimeout, OperationFailure, ServerSelectionTimeoutError

from services.runtime.consumer import is_outage


def test_database_and_broker_trouble_is_an_outage() -> None:
    assert is_outage(ServerSelectionTimeoutError("no primary"))
    assert is_outage(NetworkTimeout("timed out"))
    assert is_outage(KafkaConnectionError())
    assert is_outage(KafkaTimeoutError())
    transient = OperationFailure("write conflict", code=112)
    transient._add_error_label("TransientTransactionError")
    assert is_outage(transient)


def test_handler_and_data_errors_are_not_outages() -> None:
    assert not is_outage(ValueError("dossier not awaiting a signature"))
    assert not is_outage(KeyError("due_at"))
    assert not is_outage(DuplicateKeyError("E11000 duplicate key"))
    assert not is_outage(OperationFailure("bad update", code=9))
