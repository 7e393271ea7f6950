"""Failover across a cluster's nodes, against fake nodes: small http.server servers in threads of this process that
create a run, store appended steps above their last stored one (counting the others as duplicates, as the server
does), hand out commands and take their acknowledgements, and can be told to die (stop answering, then refuse
connections), to answer 503 for a while, or to answer 404 or 502. Run with the other unit tests:
``/usr/bin/python3 -B -m unittest discover -s clients/python/tests``.
"""

import logging
import os
import shutil
import sys
import tempfile
import time
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import losswatch  # noqa: E402
from fakeserver import RUN, FakeNode, closed_port_url  # noqa: E402
from losswatch._http import node_urls  # noqa: E402


def failovers(logs):
    """(from, to) of each failover logged as a warning."""
    return [(r.from_url, r.to_url) for r in logs.records if hasattr(r, "from_url") and r.levelno == logging.WARNING]


class FailoverTest(unittest.TestCase):
    def setUp(self):
        self.nodes = []
        self.runs = []
        self.spool = tempfile.mkdtemp(prefix="losswatch-test-")

    def tearDown(self):
        for r in self.runs:
            r.finish(timeout=0.5)   # a test that failed half-way leaves no sender behind
        for n in self.nodes:
            n.close()
        shutil.rmtree(self.spool, ignore_errors=True)

    def node(self, stored=()):
        n = FakeNode(stored)
        self.nodes.append(n)
        return n

    def run_on(self, url, **options):
        options.setdefault("batch_steps", 20)
        options.setdefault("flush_interval", 0.01)
        options.setdefault("poll_interval", 0.05)
        options.setdefault("finish_timeout", 5.0)
        options.setdefault("spool_dir", self.spool)
        run = losswatch.init(name="failover", url=url, quiet=True, **options)
        self.runs.append(run)
        return run

    def assert_finished(self, run, node, steps):
        self.assertEqual(run._sender.unsent_at_exit, 0)
        self.assertEqual(node.finished, "finished")
        self.assertEqual(node.stored, list(range(1, steps + 1)), "every step once, in order")
        self.assertEqual(node.duplicates, 0, "nothing sent again that the node had")
        self.assertEqual(run.dropped_steps, 0)
        self.assertFalse(run.stopped)

    def test_urls_as_a_list_or_comma_separated(self):
        self.assertEqual(node_urls("http://h1:8080"), ("http://h1:8080",))
        self.assertEqual(node_urls("http://h1:8080/, http://h2:8080,"), ("http://h1:8080", "http://h2:8080"))
        self.assertEqual(node_urls(["http://h1:8080", "http://h2:8080/"]), ("http://h1:8080", "http://h2:8080"))
        self.assertEqual(node_urls(("http://h1:8080", "http://h1:8080")), ("http://h1:8080",))
        with self.assertRaises(ValueError):
            node_urls(" , ")
        with self.assertRaises(TypeError):
            node_urls(["http://h1:8080", 8080])

    def test_a_dead_first_node_the_run_goes_to_the_second(self):
        dead = closed_port_url()
        n2 = self.node()
        n2.commands = [{"id": "c1", "op": "lr", "lr": 0.01}]   # commands come from whichever node
        opt = type("Opt", (), {})()
        opt.param_groups = [{"lr": 0.1, "params": []}]
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.run_on([dead, n2.url])
            self.assertEqual((run.id, run.url, run.urls), (RUN, n2.url, (dead, n2.url)))
            run.watch(opt)
            run.log(1, loss=1.0)
            end = time.monotonic() + 5
            while not run._commands_waiting:
                self.assertLess(time.monotonic(), end, "the lr command never came")
                time.sleep(0.005)
            for step in range(2, 51):
                run.log(step, loss=1.0)
            run.finish()
        self.assertEqual(failovers(logs), [(dead, n2.url)])
        self.assertEqual(opt.param_groups[0]["lr"], 0.01)
        self.assertEqual(n2.acks, [{"id": "c1", "step": 2}])
        self.assertEqual(len(n2.creates), 1)
        self.assert_finished(run, n2, 50)

    def test_a_run_placed_on_another_of_its_nodes_talks_to_that_node(self):
        asked, placed = self.node(), self.node()
        asked.places_on = placed.url + "/"
        run = self.run_on([asked.url, placed.url])
        self.assertEqual(run.url, placed.url, "the node the cluster placed the run on")
        for step in range(1, 51):
            run.log(step, loss=1.0)
        run.finish()
        self.assertEqual(len(asked.creates), 1)
        self.assertEqual(asked.received, [], "no step went through the node asked")
        self.assert_finished(run, placed, 50)

    def test_a_run_placed_on_a_node_it_was_not_given_goes_on_through_the_node_asked(self):
        asked = self.node()
        asked.places_on = "http://10.9.9.9:8080"   # the node's own address, which this client may not reach
        run = self.run_on([asked.url])
        self.assertEqual(run.url, asked.url)
        for step in range(1, 21):
            run.log(step, loss=1.0)
        run.finish()
        self.assert_finished(run, asked, 20)

    def test_losswatch_url_with_several_nodes(self):
        dead = closed_port_url()
        n2 = self.node()
        with mock.patch.dict(os.environ, {"LOSSWATCH_URL": "%s,%s/" % (dead, n2.url)}):
            run = self.run_on(None)
        self.assertEqual((run.urls, run.url), ((dead, n2.url), n2.url))
        run.log(1, loss=1.0)
        run.finish()
        self.assert_finished(run, n2, 1)

    def test_the_new_node_has_fewer_steps_those_after_its_last_go_again(self):
        # node 2 had the run's steps up to 30 only; node 1 confirmed up to 100 or so, then died
        n1 = self.node()
        n2 = self.node(stored=range(1, 31))
        n1.die_at = 100
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.run_on([n1.url, n2.url])
            for step in range(1, 301):
                run.log(step, loss=1.0 / step)
            run.finish()
        self.assertEqual(failovers(logs), [(n1.url, n2.url)])
        self.assertEqual(run.url, n2.url)
        confirmed = n1.stored[-1]
        self.assertGreaterEqual(confirmed, 100)
        self.assertEqual(n1.stored, list(range(1, confirmed + 1)))
        self.assertEqual(n2.received, list(range(31, 301)), "exactly the steps after node 2's last one")
        self.assert_finished(run, n2, 300)

    def test_the_new_node_has_more_steps_than_confirmed_they_are_not_sent_again(self):
        # node 1 stored a batch (node 2 sees it, as the cluster's store) and died before it answered
        n1 = self.node()
        n2 = self.node()
        n1.die_at = 100
        n1.answer_then_die = False
        n1.on_death = lambda n: n2.stored.extend(n.stored)
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.run_on([n1.url, n2.url])
            for step in range(1, 301):
                run.log(step, loss=1.0)
            run.finish()
        self.assertEqual(failovers(logs), [(n1.url, n2.url)])
        lost_answer = n1.stored[-1]
        self.assertGreaterEqual(lost_answer, 100)
        self.assertEqual(n2.received, list(range(lost_answer + 1, 301)), "exactly the steps after node 2's last")
        self.assert_finished(run, n2, 300)

    def test_a_node_busy_taking_the_run_over_is_asked_again(self):
        n1 = self.node()
        n2 = self.node(stored=range(1, 11))
        n1.die_at = 40
        n2.busy = 3
        with self.assertLogs("losswatch", logging.WARNING) as logs:
            run = self.run_on([n1.url, n2.url])
            for step in range(1, 101):
                run.log(step, loss=1.0)
            run.finish()
        self.assertEqual(failovers(logs), [(n1.url, n2.url)], "503: the same node again, no failover")
        self.assertEqual(n2.busy, 0)
        self.assertEqual(n2.received, list(range(11, 101)))
        self.assert_finished(run, n2, 100)

    def test_a_node_answering_502_504_or_404_hands_over_to_the_next(self):
        for status in (502, 504, 404):
            with self.subTest(status=status):
                n1 = self.node()
                n2 = self.node()
                n1.status = status   # it creates the run, then cannot serve its steps
                with self.assertLogs("losswatch", logging.WARNING) as logs:
                    run = self.run_on([n1.url, n2.url])
                    for step in range(1, 31):
                        run.log(step, loss=1.0)
                    run.finish()
                self.assertEqual(failovers(logs), [(n1.url, n2.url)])
                self.assertEqual(n1.stored, [])
                self.assertEqual(n2.received, list(range(1, 31)))
                self.assert_finished(run, n2, 30)

    def test_the_run_ends_when_no_node_knows_it(self):
        n1 = self.node()
        n2 = self.node()
        n1.status = n2.status = 404
        with self.assertLogs("losswatch", logging.WARNING):
            run = self.run_on([n1.url, n2.url])
            run.log(1, loss=1.0)
            end = time.monotonic() + 5
            while not run.stopped:
                self.assertLess(time.monotonic(), end, "the run never ended")
                time.sleep(0.005)
            run.finish()

    def test_a_409_naming_an_ended_state_ends_the_run_at_once(self):
        n1 = self.node()
        n2 = self.node()
        n1.status = 409
        n1.body = {"state": "finished"}
        run = self.run_on([n1.url, n2.url])
        run.log(1, loss=1.0)
        end = time.monotonic() + 5
        while not run.stopped:
            self.assertLess(time.monotonic(), end, "the run never ended")
            time.sleep(0.005)
        run.finish()
        self.assertEqual(run.stop_reason, "finished")
        self.assertEqual(run.url, n1.url)
        self.assertEqual(n2.received, [])

    def test_while_every_node_is_down_one_warning_then_quiet(self):
        urls = [closed_port_url(), closed_port_url()]
        with self.assertLogs("losswatch", logging.DEBUG) as logs:
            run = self.run_on(urls, finish_timeout=0.1)
            end = time.monotonic() + 5
            while run._sender.failures < 1:
                self.assertLess(time.monotonic(), end, "the sender did not retry")
                time.sleep(0.005)
            first_round = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
            while run._sender.failures < 4:   # three more rounds in the background
                self.assertLess(time.monotonic(), end, "the sender did not retry")
                time.sleep(0.005)
            later = [r.getMessage() for r in logs.records if r.levelno == logging.WARNING]
            run.finish()
        # the first round's two failovers and one line, a line each from init and the sender; then nothing above
        # debug level while it keeps trying
        self.assertEqual(failovers(logs)[:2], [(urls[0], urls[1]), (urls[1], urls[0])])
        self.assertEqual(later, first_round)
        self.assertIn("no node answers (%s, %s)" % tuple(urls), first_round[2])
        self.assertGreaterEqual(sum(1 for r in logs.records if r.levelno == logging.DEBUG), 6)
        self.assertIsNone(run.id)

    def test_a_single_node_is_used_as_before(self):
        n1 = self.node()
        n1.busy = 2
        run = self.run_on(n1.url + "/")
        self.assertEqual((run.url, run.urls), (n1.url, (n1.url,)))
        for step in range(1, 51):
            run.log(step, loss=1.0)
        run.finish()
        self.assert_finished(run, n1, 50)


if __name__ == "__main__":
    unittest.main()
