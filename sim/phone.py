"""The interactive handset console behind `merp sim phone MSISDN`.

Blocking on purpose (plain urllib and a thread): it is a terminal program talking to the
simulator's control API, not part of any reactor. Lines typed are sent as MOs; a
background thread long-polls the handset's inbox and prints replies as they arrive.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request

QUIT_WORDS = ("/quit", "/exit")

BANNER = """\
merp handset {msisdn}  ->  service number {to}   (simulator {url})
Type a message and press Enter to send it, for example:  HELP   STOCK X100   库存 X100
Replies are printed as they arrive. Type /quit or press Ctrl-D to leave.
"""


class SimulatorUnavailable(Exception):
    """The control API did not answer (not started, wrong URL, or it went away)."""


class ControlClient:
    """Blocking client of the simulator's control API (sim.control)."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, payload: dict | None = None, timeout: float | None = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read().decode("utf-8")).get("error", exc.reason)
            except ValueError:
                message = exc.reason
            raise ValueError(f"simulator refused: {message}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SimulatorUnavailable(f"no answer from the simulator at {self.base_url} ({reason})") from None

    def send_mo(self, sender: str, to: str | None, text: str) -> dict:
        payload = {"from": sender, "text": text}
        if to:
            payload["to"] = to
        return self._call("POST", "/mo", payload)

    def messages(self, msisdn: str, after: int, wait: float = 0.0) -> dict:
        query = urllib.parse.urlencode({"after": after, "wait": wait})
        path = f"/phones/{urllib.parse.quote(msisdn)}/messages?{query}"
        return self._call("GET", path, timeout=wait + self.timeout)

    def status(self) -> dict:
        return self._call("GET", "/status")


class PhoneConsole:
    """One handset at the terminal: `run(lines)` until /quit or end of input."""

    def __init__(self, msisdn: str, control_url: str, to: str | None, out,
                 poll_wait: float = 20.0, retry_delay: float = 2.0, client: ControlClient | None = None,
                 linger: float = 0.0):
        self.msisdn = msisdn
        self.linger = linger  # at end of piped input: wait this long for outstanding replies
        self.to = to
        self.control_url = control_url
        self.out = out
        self.poll_wait = poll_wait
        self.retry_delay = retry_delay
        self.client = client or ControlClient(control_url)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._last = 0
        self._sent = 0
        self._received = 0
        self._replies = threading.Condition(self._lock)
        self.poller: threading.Thread | None = None

    def say(self, text: str) -> None:
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def run(self, lines) -> int:
        """Exit status: 0 after a normal quit, 2 when the simulator cannot be reached."""
        try:
            self._last = self.client.messages(self.msisdn, after=0)["last"]
        except (SimulatorUnavailable, ValueError) as exc:
            self.say(f"{exc}\nIs the simulator running? Start it with `merp sim smsc` "
                     f"or `merp demo`, or pass --control URL.")
            return 2
        self.say(BANNER.format(msisdn=self.msisdn, to=self.to or "(simulator default)", url=self.control_url))
        self.poller = threading.Thread(target=self._poll, name=f"phone-{self.msisdn}", daemon=True)
        self.poller.start()
        try:
            for line in lines:
                text = line.strip()
                if not text:
                    continue
                if text.lower() in QUIT_WORDS:
                    break
                self._send(text)
            else:
                self._await_replies()
        finally:
            self._stop.set()
        self.say("bye")
        return 0

    def _await_replies(self) -> None:
        """Scripted use (input piped in): do not hang up before the answers arrive."""
        with self._replies:
            self._replies.wait_for(lambda: self._received >= self._sent, timeout=self.linger)

    def _send(self, text: str) -> None:
        try:
            answer = self.client.send_mo(self.msisdn, self.to, text)
        except (SimulatorUnavailable, ValueError) as exc:
            self.say(f"!! not sent: {exc}")
            return
        parts = answer.get("parts", 1)
        with self._lock:
            self._sent += 1
        self.say(f">> sent (id {answer.get('id')}{f', {parts} parts' if parts > 1 else ''})")

    def _poll(self) -> None:
        complained = False
        while not self._stop.is_set():
            try:
                answer = self.client.messages(self.msisdn, after=self._last, wait=self.poll_wait)
            except (SimulatorUnavailable, ValueError) as exc:
                if not complained:
                    self.say(f"!! {exc}; still trying")
                    complained = True
                self._stop.wait(self.retry_delay)
                continue
            if complained:
                self.say("(simulator is back)")
                complained = False
            if self._stop.is_set():
                return
            for message in answer.get("messages", []):
                self.say(f"<< {message['from']}: {message['text']}")
                self._last = max(self._last, message["seq"])
                with self._replies:
                    self._received += 1
                    self._replies.notify_all()


def run_phone(msisdn: str, control_url: str, to: str | None, stdin, stdout) -> int:
    """The `merp sim phone` command body."""
    interactive = hasattr(stdin, "isatty") and stdin.isatty()
    console = PhoneConsole(msisdn, control_url, to, stdout, linger=0.0 if interactive else 15.0)
    try:
        return console.run(stdin)
    except KeyboardInterrupt:
        console.say("bye")
        return 0
