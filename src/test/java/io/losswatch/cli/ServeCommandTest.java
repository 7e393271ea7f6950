package io.losswatch.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code serve} with settings that could let two clusters merge stops before anything starts, saying which flag. */
class ServeCommandTest {
  @Test
  void splitClusterSettingsStopTheStartWithStatus2() {
    String[][] refused = {{"--cluster", "--cluster-port", "0"}, {"--cluster", "--cluster-name", "dev"},
        {"--cluster-members", "10.0.0.1:5701"}, {"--cluster"}, {"--cluster", "--cluster-secret-file", "/nonexistent"}};
    for (String[] args : refused) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      String[] line = new String[args.length + 1];
      line[0] = "serve";
      System.arraycopy(args, 0, line, 1, args.length);
      int status = LosswatchCommand.run(line, Cli.writer(out), Cli.writer(err));
      String said = err.toString(StandardCharsets.UTF_8);
      assertEquals(2, status, said);
      assertTrue(said.startsWith("serve: --cluster-"), said);
      assertEquals("", out.toString(StandardCharsets.UTF_8), "nothing started");
    }
  }
}
