"""The sender's state machine, transition by transition, against fake nodes (``fakeserver.py``: ``http.server`` in a
thread): what each answer, or the lack of one, does to the run and to its steps. The rule under test everywhere: a
run ends only on a 409 that names an ended state, a 404 from every node, or a stop command; anything else is tried
again with every step kept, and said in one line. Run: ``/usr/bin/python3 -m unittest discover -s
clients/python/tests`` (or ``python3 -m pytest clients/python/tests``).
"""

import io
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import losswatch  # noqa: E402
from fakeserver import HANG, RESET, RUN, STORE_THEN_RESET, FakeNode, closed_port_url, free_port  # noqa: E402
from losswatch import _sync  # noqa: E402

STEPS = 60


def until(predicate, what, timeout=10.0):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out: " + what)
        time.sleep(0.005)


class SenderTest(unittest.TestCase):
    def setUp(self):
        self.nodes = []
        self.runs = []
        self.spool = tempfile.mkdtemp(prefix="losswatch-test-")

    def tearDown(self):
        for r in self.runs:
            r.finish(timeout=0.5)
        for n in self.nodes:
            n.close()
        shutil.rmtree(self.spool, ignore_errors=True)

    def node(self, **kwargs):
        n = FakeNode(**kwargs)
        self.nodes.append(n)
        return n

    def start(self, url, **options):
        options.setdefault("batch_steps", 10)
        options.setdefault("flush_interval", 0.01)
        options.setdefault("poll_interval", 0.05)
        options.setdefault("finish_timeout", 10.0)
        options.setdefault("request_timeout", 0.3)
        options.setdefault("spool_dir", self.spool)
        run = losswatch.init(name="sender", url=url, quiet=True, **options)
        self.runs.append(run)
        return run

    def log_all(self, run, steps=STEPS, first=1):
        for step in range(first, steps + 1):
            run.log(step, loss=1.0 / step, val_acc=step / 100.0)

    def assert_every_step_once(self, run, node, steps=STEPS):
        self.assertFalse(run.stopped, "the run goes on: %s" % run.stop_reason)
        self.assertIsNone(run.stop_reason)
        self.assertEqual(node.stored, list(range(1, steps + 1)), "every step once, in order")
        self.assertEqual(run.dropped_steps, 0)
        self.assertEqual(run._sender.unsent_at_exit, 0)
        self.assertEqual(node.values[steps], (1.0 / steps, None, None), "exact")
        self.assertEqual(node.metrics["val_acc"][steps], steps / 100.0)

    def said(self, logs, text):
        return [r.getMessage() for r in logs.records if text in r.getMessage()]

    # ---- no answer

    def test_refused_the_server_not_up_at_init_the_run_is_created_once_it_is(self):
        port = free_port()
        with self.assertLogs("losswatch", logging.INFO) as logs:
            run = self.start("http://127.0.0.1:%d" % port)
            self.assertIsNone(run.id)
            self.log_all(run, 30)
            n = self.node(port=port)
            self.log_all(run, STEPS, 31)
            run.finish()
        self.assertEqual(run.id, RUN)
        self.assert_every_step_once(run, n)
        self.assertEqual(len(n.creates), 1)
        self.assertEqual(len(self.said(logs, "cannot reach")), 1, "said once")

    def test_reset_before_storing_the_batch_goes_again(self):
        n = self.node()
        n.plan.extend([RESET, RESET])
        run = self.start(n.url)
        self.log_all(run)
        run.finish()
        self.assert_every_step_once(run, n)
        self.assertEqual(n.duplicates, 0)

    def test_reset_after_storing_the_stored_steps_are_not_sent_again(self):
        n = self.node()
        n.plan.append(STORE_THEN_RESET)
        run = self.start(n.url)
        self.log_all(run)
        run.finish()
        self.assert_every_step_once(run, n)
        self.assertEqual(n.duplicates, 0, "the probe said what the node had: nothing sent twice")

    def test_timeout_the_answer_never_came_the_steps_were_stored(self):
        n = self.node()
        n.plan.append(HANG)
        run = self.start(n.url)
        self.log_all(run)
        run.finish()
        self.assert_every_step_once(run, n)
        self.assertEqual(n.duplicates, 0)

    # ---- "not now" answers

    def test_502_503_504_on_one_node_are_tried_again_on_it_said_once(self):
        for status in (502, 503, 504):
            with self.subTest(status=status):
                n = self.node()
                n.plan.extend([status] * 4)
                with self.assertLogs("losswatch", logging.WARNING) as logs:
                    run = self.start(n.url)
                    self.log_all(run)
                    run.finish()
                self.assert_every_step_once(run, n)
                said = [r.getMessage() for r in logs.records]
                self.assertEqual(len(said), 1, said)
                self.assertIn("cannot take run r1's steps now (%d" % status, said[0])

    def test_409_without_an_ended_state_is_not_an_end(self):
        # a server stopping or starting (19.1): the run goes on, every step kept and sent again
        n = self.node()
        n.plan.extend([(409, {"error": "run r1 is running: it takes no more steps"})] * 5)
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.start(n.url)
            self.log_all(run)
            run.finish()
        self.assert_every_step_once(run, n)
        self.assertEqual(n.finished, "finished")
        said = [r.getMessage() for r in logs.records]
        self.assertEqual(len(said), 1, said)
        self.assertIn("cannot take run r1's steps now (409 run r1 is running", said[0])

    def test_409_without_an_ended_state_from_one_node_of_two_moves_to_the_other(self):
        # a dying owner, or a mirror that does not own the run, in a cluster: the next node, at once
        n1, n2 = self.node(), self.node()
        n1.status = 409
        run = self.start([n1.url, n2.url])
        self.log_all(run)
        run.finish()
        self.assert_every_step_once(run, n2)
        self.assertEqual(run.url, n2.url)

    def test_409_without_an_ended_state_on_finish_is_tried_again(self):
        n = self.node()
        run = self.start(n.url)
        self.log_all(run)
        n.wait(lambda n: n.last() == STEPS)
        n.status, n.body = 409, {}
        run._sender.deadline = None
        import threading
        threading.Timer(0.3, lambda: setattr(n, "status", None)).start()
        run.finish()
        self.assertEqual(n.finished, "finished")

    # ---- ends

    def test_409_naming_an_ended_state_ends_the_run_with_it(self):
        for state in ("finished", "failed", "stopped", "diverged"):
            with self.subTest(state=state):
                n = self.node()
                run = self.start(n.url)
                self.log_all(run, 20)
                n.wait(lambda n: n.last() == 20)
                n.status, n.body = 409, {"state": state}
                run.log(21, loss=1.0)
                until(lambda: run.stopped, "the run ends")
                self.assertEqual(run.stop_reason, state)
                self.log_all(run, 30, 22)   # log() still takes steps: the loop ends when it reads run.stopped
                run.finish()
                self.assertEqual(n.stored, list(range(1, 21)))
                self.assertIsNone(n.finished, "nothing to finish: the server ended it")

    def test_404_from_the_only_node_ends_the_run_deleted(self):
        n = self.node()
        run = self.start(n.url)
        n.status = 404
        run.log(1, loss=1.0)
        until(lambda: run.stopped, "the run ends")
        self.assertEqual(run.stop_reason, "deleted")

    def test_404_from_one_node_of_two_moves_to_the_other_from_both_ends_it(self):
        n1, n2 = self.node(), self.node()
        n1.status = 404
        run = self.start([n1.url, n2.url])
        self.log_all(run)
        run.finish()
        self.assert_every_step_once(run, n2)
        n3, n4 = self.node(), self.node()
        n3.status = n4.status = 404
        run = self.start([n3.url, n4.url])
        run.log(1, loss=1.0)
        until(lambda: run.stopped, "the run ends")
        self.assertEqual(run.stop_reason, "deleted")

    def test_a_stop_command_ends_the_loop_with_its_reason_and_is_acknowledged(self):
        n = self.node()
        n.commands = [{"id": "c1", "op": "stop", "reason": "diverged"}]
        run = self.start(n.url)
        step = 0
        while not run.stopped:
            step += 1
            self.assertLess(step, 100_000)
            run.log(step, loss=1.0)
            time.sleep(0.001)
        self.assertEqual(run.stop_reason, "diverged")
        run.finish()
        self.assertEqual(n.acks, [{"id": "c1", "step": step}])
        self.assertEqual(n.stored[-1], step, "the step it stopped at was sent")
        self.assertIsNone(n.finished)

    # ---- steps the server lost, and the spool

    def test_a_node_that_lost_steps_gets_them_again(self):
        n = self.node()
        run = self.start(n.url)
        self.log_all(run, 40)
        n.wait(lambda n: n.last() == 40)
        with n.cond:
            del n.stored[25:]   # killed: it had written up to 25 only, and comes back
            n.plan.append(RESET)
        self.log_all(run, STEPS, 41)
        run.finish()
        self.assert_every_step_once(run, n)

    def test_spilled_to_the_spool_while_the_server_is_away_replayed_once_it_is_back(self):
        port = free_port()
        run = self.start("http://127.0.0.1:%d" % port, batch_steps=10, memory_steps=20)
        self.log_all(run, 200)
        until(lambda: run.spilled_steps >= 150, "spilled")
        spool = run._sender.spool
        self.assertTrue(os.path.exists(spool.path))
        n = self.node(port=port)
        run.finish()
        self.assertEqual(n.stored, list(range(1, 201)))
        self.assertEqual(n.duplicates, 0)
        self.assertIsNone(spool.path, "the spool file is gone once sent")
        self.assertEqual(os.listdir(self.spool), [])

    def test_a_spool_left_at_the_finish_timeout_is_sent_by_sync_which_creates_the_run(self):
        url = closed_port_url()
        run = self.start(url, batch_steps=10, memory_steps=20, finish_timeout=0.3, tags=["t"])
        self.log_all(run, 100)
        run.finish()
        files = [os.path.join(d, f) for d, _, fs in os.walk(self.spool) for f in fs]
        self.assertEqual(len(files), 1)
        with open(files[0]) as f:
            header = json.loads(f.readline())
        self.assertEqual(header["create"]["name"], "sender")
        self.assertEqual(header["urls"], [url])
        n = self.node()
        out = io.StringIO()
        self.assertEqual(_sync.main([self.spool, "--url", n.url], out), 0, out.getvalue())
        self.assertEqual(n.stored, list(range(1, 101)))
        self.assertEqual(n.creates[0]["tags"], ["t"])
        self.assertEqual(n.finished, "finished")
        self.assertIn("sent 100 steps (1 to 100)", out.getvalue())
        self.assertIn("created", out.getvalue())
        self.assertEqual(os.listdir(self.spool), [], "the file, and its folder, are removed once sent")

    def test_sync_of_a_run_the_server_has_sends_only_what_it_lacks(self):
        n = self.node(stored=range(1, 51))
        path = os.path.join(self.spool, "r1-99999999.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"losswatch_spool": 1, "run": RUN, "urls": [n.url], "create": None}) + "\n")
            f.write(json.dumps([[[k, 0.5, None, None, 0.0, None] for k in range(41, 81)], []]) + "\n")
            f.write('[[[81, 0.5')   # a cut last line: the script was killed as it wrote it
        out = io.StringIO()
        self.assertEqual(_sync.main([path], out), 0, out.getvalue())
        self.assertEqual(n.stored, list(range(1, 81)))
        self.assertIn("sent 30 steps (51 to 80), 10 the server had already", out.getvalue())
        self.assertIn("left as it is", out.getvalue())

    # ---- metrics the server refuses

    def test_a_metric_the_server_refuses_is_left_out_the_steps_are_sent(self):
        n = self.node()
        n.max_metrics = 2   # a server whose limit is lower than the client's
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.start(n.url)
            for step in range(1, 41):
                run.log(step, loss=1.0, a=1.0, b=2.0, **({"c": 3.0} if step > 20 else {}))
            run.finish()
        self.assertEqual(n.stored, list(range(1, 41)))
        self.assertEqual(sorted(n.metrics), ["a", "b"])
        self.assertEqual(len(n.metrics["b"]), 40)
        self.assertEqual(len(self.said(logs, "metric 'c' is not sent")), 1)
        self.assertEqual(run.dropped_steps, 0)

    # ---- tags and notes

    def test_tags_notes_and_group_go_with_the_run_and_setting_them_patches(self):
        n = self.node()
        run = self.start(n.url, tags=["lr-sweep"], notes="first try", group="ddp-7")
        self.assertEqual(n.creates[0]["tags"], ["lr-sweep", "ddp-7"])
        self.assertEqual(n.creates[0]["notes"], "first try")
        run.tags = ["kept", "best"]
        run.notes = "this one"
        self.assertEqual(run.tags, ["kept", "best"])
        n.wait(lambda n: n.tags == ["kept", "best"] and any("notes" in p for p in n.patches))
        run.finish()

    def test_a_server_that_does_not_take_tags_creates_the_run_without_them(self):
        n = self.node()
        n.refuse_create = (400, {"error": "tags: unknown key", "field": "tags"})
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.start(n.url, tags=["a"], notes="n")
        self.assertEqual(run.id, RUN)
        self.assertNotIn("tags", n.creates[0])
        self.assertEqual(len(self.said(logs, "does not take tags")), 1)

    # ---- resume

    def test_resume_an_interrupted_run_numbers_on_from_its_last_step(self):
        n = self.node(stored=range(1, 101), state="interrupted")
        n.resume_answer = (409, {"error": "run r1 is interrupted"})   # today's server: the first append takes it on
        with self.assertLogs("losswatch", logging.INFO) as logs:
            run = self.start(n.url, resume=RUN)
            self.assertEqual((run.id, run.step), (RUN, 100))
            for step in range(91, 111):   # the script's checkpoint was at step 90
                run.log(step, loss=1.0)
            run.log(loss=1.0)
            run.finish()
        self.assertEqual(n.stored, list(range(1, 112)))
        self.assertEqual(n.duplicates, 0)
        self.assertIn(("POST", "/api/runs/r1/resume"), n.requests)
        self.assertEqual(len(self.said(logs, "steps up to 100 already")), 1)

    def test_resume_a_failed_run_asks_the_server_to_resume_it(self):
        n = self.node(stored=range(1, 11), state="failed")
        run = self.start(n.url, resume=RUN)
        self.assertEqual(n.state, "running")
        run.log(loss=1.0)
        run.finish()
        self.assertEqual(n.stored, list(range(1, 12)))

    def test_resume_what_the_server_refuses_or_does_not_know_raises_at_init(self):
        n = self.node(stored=range(1, 11), state="finished")
        n.resume_answer = (409, {"error": "run r1 is finished"})
        with self.assertRaisesRegex(losswatch.LosswatchError, "cannot resume run r1, which is finished"):
            self.start(n.url, resume=RUN)
        with self.assertRaisesRegex(losswatch.LosswatchError, "no run nope"):
            self.start(n.url, resume="nope")

    def test_resume_while_the_server_is_away_it_is_resumed_once_it_is_back(self):
        port = free_port()
        run = self.start("http://127.0.0.1:%d" % port, resume=RUN)
        for step in range(1, 41):
            run.log(step, loss=1.0)
        n = self.node(stored=range(1, 21), port=port, state="interrupted")
        run.finish()
        self.assertEqual(n.stored, list(range(1, 41)))
        self.assertEqual(n.duplicates, 0, "the steps it had were not sent again")

    def test_resume_a_paused_run_log_waits_for_the_resume(self):
        n = self.node(stored=range(1, 11), state="paused")
        run = self.start(n.url, resume=RUN)
        import threading
        done = threading.Event()
        t = threading.Thread(target=lambda: (run.log(loss=1.0), done.set()), daemon=True)
        t.start()
        self.assertFalse(done.wait(0.3), "log() waits while the run is paused")
        n.commands = [{"id": "c1", "op": "resume"}]
        self.assertTrue(done.wait(10), "the resume released it")
        run.finish()
        self.assertEqual(n.stored, list(range(1, 12)))


class ForkTest(unittest.TestCase):
    @unittest.skipUnless(hasattr(os, "fork"), "no fork here")
    def test_log_in_a_forked_child_raises_a_clear_error_and_the_parent_goes_on(self):
        n = FakeNode()
        spool = tempfile.mkdtemp(prefix="losswatch-test-")
        try:
            run = losswatch.init(name="fork", url=n.url, quiet=True, flush_interval=0.01, spool_dir=spool)
            run.log(1, loss=1.0)
            code = ("import os, sys, json; sys.path.insert(0, %r); import losswatch\n"
                    "run = losswatch.init(name='fork', url=%r, quiet=True)\n"
                    "run.log(1, loss=1.0)\n"
                    "r, w = os.pipe()\n"
                    "pid = os.fork()\n"
                    "if pid == 0:\n"
                    "    try:\n"
                    "        run.log(2, loss=1.0)\n"
                    "        out = 'no error'\n"
                    "    except losswatch.LosswatchError as e:\n"
                    "        out = str(e)\n"
                    "    run.finish()\n"   # does nothing here: the parent's run
                    "    os.write(w, out.encode()); os._exit(0)\n"
                    "os.close(w)\n"
                    "said = os.read(r, 10000).decode()\n"
                    "os.waitpid(pid, 0)\n"
                    "run.log(2, loss=2.0)\n"
                    "run.finish()\n"
                    "print(json.dumps({'child': said, 'stopped': run.stopped}))\n"
                    % (os.path.dirname(HERE), n.url))
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            self.assertIn("forked from process", result["child"])
            self.assertIn("losswatch.init(resume='r1')", result["child"])
            self.assertIn("init(group=", result["child"])
            self.assertEqual(n.finished, "finished")
            self.assertEqual(n.stored, [1, 2], "the parent's steps, once; none from the child")
            run.finish()
        finally:
            n.close()
            shutil.rmtree(spool, ignore_errors=True)

    def test_a_run_does_not_pickle_into_another_process(self):
        import pickle
        run = losswatch.init(name="pickle", url=closed_port_url(), quiet=True, finish_timeout=0.1,
                             spool_dir=tempfile.mkdtemp(prefix="losswatch-test-"))
        try:
            with self.assertRaisesRegex(TypeError, "log from the process that created it"):
                pickle.dumps(run)
        finally:
            run.finish()
            shutil.rmtree(run._sender.spool_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
