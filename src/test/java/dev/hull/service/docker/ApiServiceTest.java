package dev.hull.service.docker;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** A test class with a Hull service of its own ({@link ApiService}), started before its tests and stopped after. */
abstract class ApiServiceTest {
    @TempDir
    static Path tmp;
    static ApiService api;

    @BeforeAll
    static void startService() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(ApiService.DOCKER), "the docker CLI is not at " + ApiService.DOCKER);
        api = ApiService.start(tmp);
    }

    @AfterAll
    static void stopService() throws Exception {
        if (api != null) {
            api.close();
            api = null;
        }
    }
}
