"""The embedded broker never shows a reader a half-written message."""

import json
import threading

from kombu import Connection

from portal.core import fs_broker


def test_messages_appear_in_the_queue_folder_only_complete(tmp_path):
    queue, staging = tmp_path / "queue", tmp_path / "staging"
    queue.mkdir()
    options = {"data_folder_in": str(queue), "data_folder_out": str(queue), "store_processed": False}
    seen_partial: list[str] = []
    stop = threading.Event()

    def watch() -> None:  # read every file the moment it appears, as a polling worker does
        while not stop.is_set():
            for path in queue.iterdir():
                try:
                    json.loads(path.read_bytes())
                except FileNotFoundError:
                    pass
                except ValueError:
                    seen_partial.append(path.name)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with Connection(f"{fs_broker.ALIAS}://", transport_options=options) as conn:
            channel = conn.channel()
            big = "x" * 200_000
            for _ in range(200):
                channel._put("city", {"body": big})
    finally:
        stop.set()
        watcher.join()
    assert seen_partial == []
    assert len(list(queue.iterdir())) == 200
    assert list(staging.iterdir()) == []
