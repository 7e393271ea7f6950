package io.losswatch.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.losswatch.Python;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Python client's {@code losswatch.follow} against the real server: clients/python/tests/test_follow.py, run by
 * Debian's /usr/bin/python3 with {@code LOSSWATCH_TEST_URL} naming this server (without it, those tests skip).
 */
class FollowIT extends SharedServer {
  @Test
  void followReadsEveryStepOverTheBinaryStream(@TempDir Path dir) throws Exception {
    Python.require(false, "losswatch.follow against the server");
    Map.Entry<Integer, String> r = Python.run(dir, 300, "/usr/bin/env", "LOSSWATCH_TEST_URL=http://127.0.0.1:" + server.port(),
        Python.PYTHON.toString(), "-B", Python.repo().resolve("clients/python/tests/test_follow.py").toString(), "-v");
    assertEquals(0, r.getKey(), r.getValue());
    assertTrue(r.getValue().contains("OK") && !r.getValue().contains("skipped"), r.getValue());
  }
}
