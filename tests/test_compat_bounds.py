"""ui.compat's bounds on Streamlit internals (issue 18), each checked against the installed
streamlit without a server: these fail when an internal they rely on changes."""

from __future__ import annotations

import math

import pytest
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui import compat

MB = 2**20


def rec(file_id: str, size: int) -> UploadedFileRec:
    return UploadedFileRec(file_id=file_id, name=f"{file_id}.npz", type="x", data=b"\0" * size)


def stored(manager) -> dict[str, list[str]]:
    return {sid: list(files) for sid, files in manager.file_storage.items() if files}


def test_the_upload_store_keeps_a_sessions_newest_files_within_its_budget():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    compat.bound_upload_store(manager, session_bytes=3 * MB, session_files=2, copy_bytes=100 * MB)
    for i in range(12):  # the flood: many PUTs under one session
        manager.add_file("s1", rec(f"f{i}", MB))
    assert stored(manager) == {"s1": ["f10", "f11"]}
    manager.add_file("s1", rec("big", 3 * MB))  # alone it fits; the older two go
    assert stored(manager) == {"s1": ["big"]}
    assert compat.upload_store_bytes(manager) == 3 * MB
    assert manager.get_files("s1", ["big"])[0].data == b"\0" * 3 * MB  # still readable
    manager.remove_session_files("s1")  # Streamlit's own bookkeeping still works
    assert compat.upload_store_bytes(manager) == 0


def test_the_upload_store_keeps_the_copy_within_its_budget_oldest_first():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    compat.bound_upload_store(manager, session_bytes=4 * MB, session_files=2, copy_bytes=5 * MB)
    for i in range(4):
        manager.add_file(f"s{i}", rec(f"f{i}", 2 * MB))
    assert compat.upload_store_bytes(manager) <= 5 * MB
    assert stored(manager) == {"s2": ["f2"], "s3": ["f3"]}  # the newest stay


def test_files_of_ended_sessions_are_dropped_from_the_upload_store():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    alive = {"s1", "s2"}
    compat.bound_upload_store(
        manager, session_bytes=4 * MB, session_files=2, copy_bytes=64 * MB, alive=alive.__contains__
    )
    manager.add_file("s1", rec("a", MB))
    manager.add_file("s2", rec("b", MB))
    alive.discard("s1")  # its tab closed, and Streamlit never shut the session down
    manager.add_file("s2", rec("c", MB))
    assert stored(manager) == {"s2": ["b", "c"]}


def test_bounding_twice_wraps_once():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    compat.bound_upload_store(manager, MB, 1, MB)
    first = manager.add_file
    compat.bound_upload_store(manager, MB, 1, MB)
    assert manager.add_file is first


def test_clear_cache_from_a_client_is_ignored():
    import inspect

    from streamlit.runtime import caching
    from streamlit.runtime.app_session import AppSession

    original = AppSession._handle_clear_cache_request
    calls = []
    real = caching.cache_resource.clear, caching.cache_data.clear
    try:
        compat.ignore_clear_cache()
        caching.cache_resource.clear = lambda: calls.append("resource")
        caching.cache_data.clear = lambda: calls.append("data")

        class Fake:
            id = "s1"
            _session_state = None  # touching it would raise

        AppSession._handle_clear_cache_request(Fake())
        assert calls == []
    finally:
        caching.cache_resource.clear, caching.cache_data.clear = real
        AppSession._handle_clear_cache_request = original
    # Streamlit still dispatches the message to the handler of that name.
    assert "_handle_clear_cache_request" in inspect.getsource(AppSession.handle_backmsg)


def test_a_widget_value_its_deserialiser_refuses_becomes_the_default():
    from streamlit.elements.widgets.number_input import NumberInputSerde
    from streamlit.proto.NumberInput_pb2 import NumberInput
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.runtime.state.common import WidgetMetadata
    from streamlit.runtime.state.session_state import Serialized, WStates

    serde = NumberInputSerde(value=7, data_type=NumberInput.INT, min_value=0, max_value=100)
    metadata = WidgetMetadata(
        id="seed",
        deserializer=serde.deserialize,
        serializer=serde.serialize,
        value_type="int_value",
    )
    sent = WidgetState(id="seed", double_value=math.nan)  # what a hostile client can send
    states = WStates()
    states.set_widget_metadata(metadata)
    states["seed"] = Serialized(sent)
    patched = WStates.__getitem__  # an AppTest run in this process may have installed it
    original = getattr(patched, "_original", patched)
    WStates.__getitem__ = original
    try:
        with pytest.raises(ValueError):  # what Streamlit does by itself: every run fails
            states["seed"]
        compat.drop_undeserialisable_widget_values()
        compat.drop_undeserialisable_widget_values()  # idempotent
        assert states["seed"] == 7
        assert states.get("seed") == 7  # stored as the value from now on
        good = WStates()
        good.set_widget_metadata(metadata)
        good["seed"] = Serialized(WidgetState(id="seed", int_value=42))
        assert good["seed"] == 42  # honest values pass as before
        as_double = WStates()  # Streamlit registers an int number_input as "double_value" ...
        as_double.set_widget_metadata(
            WidgetMetadata(
                id="seed",
                deserializer=serde.deserialize,
                serializer=serde.serialize,
                value_type="double_value",
            )
        )
        as_double["seed"] = Serialized(WidgetState(id="seed", int_value=42))  # ... sent so
        assert as_double["seed"] == 42
        typed = WStates()
        typed.set_widget_metadata(metadata)
        typed["seed"] = Serialized(WidgetState(id="seed", string_value="x"))  # wrong type
        assert typed["seed"] == 7
        assert typed.get_serialized("seed").int_value == 7  # serialisable as its own type
    finally:
        WStates.__getitem__ = patched


def test_the_session_storage_exposes_expiry_and_the_sweeper_shuts_sessions_down():
    from streamlit.runtime.memory_session_storage import MemorySessionStorage

    clock = [0.0]
    storage = MemorySessionStorage(maxsize=8, ttl_seconds=5)
    storage._cache._timer = lambda: clock[0]  # the TTLCache's timer, as Streamlit builds it

    class Session:
        def __init__(self, sid):
            self.id, self.down = sid, False

        def shutdown(self):
            self.down = True

    class Info:
        def __init__(self, sid):
            self.session = Session(sid)

    infos = [Info("a"), Info("b")]
    for info in infos:
        storage.save(info)

    class Manager:
        _session_storage = storage

        def list_active_sessions(self):
            return []

    class Runtime:
        _session_mgr = Manager()

    stats = compat.SweepStats()
    previous: list[int] = []
    assert compat.sweep_sessions(Runtime(), stats, previous) == 0  # nothing expired yet
    assert stats.collections == 0
    clock[0] = 6.0
    assert compat.sweep_sessions(Runtime(), stats, previous) == 2
    assert all(info.session.down for info in infos) and stats.collections == 1
    compat.sweep_sessions(Runtime(), stats, previous)  # and once more on the next sweep
    assert stats.collections == 2
    compat.sweep_sessions(Runtime(), stats, previous)  # then not, while nothing changes
    assert stats.collections == 2
    assert storage.list() == []


def test_the_runtime_offers_what_install_bounds_uses():
    from streamlit.runtime import Runtime
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

    assert hasattr(Runtime, "uploaded_file_mgr") and hasattr(Runtime, "is_active_session")
    assert hasattr(Runtime, "_get_async_objs")
    import inspect

    source = inspect.getsource(WebsocketSessionManager.__init__)
    assert "self._session_storage = session_storage" in source
    assert "list_active_sessions" in dir(WebsocketSessionManager)
    assert compat.install_bounds(MB, 1, MB, 5.0) is False  # no server here: nothing done


def test_a_file_over_the_sessions_budget_is_kept_by_name_and_size_only():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    compat.bound_upload_store(manager, session_bytes=MB, session_files=2, copy_bytes=64 * MB)
    manager.add_file("s1", rec("big", 3 * MB))
    (kept,) = manager.get_files("s1", ["big"])
    assert kept.data == b"" and kept.name == "big.npz"
    assert compat.too_large_size(kept) == 3 * MB
    assert compat.too_large_size(rec("small", 10)) is None


def test_a_read_upload_keeps_its_record_but_not_its_bytes(monkeypatch):
    import types

    from streamlit.proto.Common_pb2 import FileURLs
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    manager.add_file("s1", rec("f", MB))
    ctx = types.SimpleNamespace(uploaded_file_mgr=manager, session_id="s1")
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: ctx)
    (record,) = manager.get_files("s1", ["f"])
    uploaded = UploadedFile(record, FileURLs())
    assert len(uploaded.getvalue()) == MB
    compat.forget_upload_bytes(uploaded)
    assert uploaded.getvalue() == b""
    (kept,) = manager.get_files("s1", ["f"])
    assert kept.file_id == "f" and kept.name == "f.npz" and kept.data == b""
    assert UploadedFile(kept, FileURLs()) == uploaded  # the same file to Streamlit: no change
    assert manager._total_bytes == 0 and manager.get_stats()  # its statistics still add up
