package org.dmstack.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dmstack.block.BlockDeviceRegistry;
import org.dmstack.nfit.EmulatedPlatform;
import org.dmstack.nfit.NfitPlatform;
import org.dmstack.pmem.Pmem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NdctlTest {
    private final BlockDeviceRegistry registry = new BlockDeviceRegistry();
    private Pmem pmem;
    private NfitPlatform platform;
    private Ndctl ndctl;

    @BeforeEach
    void setUp() {
        platform = EmulatedPlatform.fromConfig(List.of("volatile:16M"), "", List.of()).platform();
        pmem = new Pmem(registry);
        platform.addMediaErrorListener(pmem);
        platform.regions().forEach(pmem::addRegion);
        ndctl = new Ndctl(() -> List.of(platform), pmem);
    }

    @AfterEach
    void tearDown() {
        pmem.close();
    }

    private String run(String line) {
        return Stack.capture((out, err) -> ndctl.run(Stack.words(line), out));
    }

    @Test
    void listShowsRegionsWithTheirNamespaceAndBlockDevice() {
        String regions = run("list -R");
        assertTrue(regions.contains("\"dev\":\"region0\""), regions);
        String ns = run("list -N");
        assertTrue(ns.contains("\"dev\":\"namespace0.0\"") && ns.contains("\"mode\":\"raw\"") && ns.contains("\"blockdev\":\"pmem0\""), ns);
        assertTrue(run("list -D -R").contains("\"dimms\""));
    }

    /** parse-options' words and layout (util/parse-options.c, util/usage.c). */
    @Test
    void listHelpAndErrorsAsNdctlPrintsThem() {
        String usage = """

                 usage: ndctl list [<options>]

                    -B, --buses           include bus info
                    -D, --dimms           include dimm info
                    -R, --regions         include region info
                    -N, --namespaces      include namespace info (default)
                    -M, --media-errors    include media errors
                    -u, --human           use human friendly number formats\s
                    -v, --verbose         increase output detail

                """;
        assertEquals(usage, run("list -h"));
        assertEquals(usage, run("list --help"));
        assertEquals("  Error: unknown switch `X'\n" + usage.stripTrailing(),
                assertThrows(CommandException.class, () -> run("list -RX")).getMessage());
        assertEquals("  Error: unknown option `frob'\n" + usage.stripTrailing(),
                assertThrows(CommandException.class, () -> run("list --frob")).getMessage());
        assertEquals("  Error: unknown parameter \"region0\"\n\n" + usage.stripTrailing(),
                assertThrows(CommandException.class, () -> run("list region0")).getMessage());
    }

    @Test
    void injectStatusAndUninject() {
        assertEquals("", run("inject-error namespace0.0 --block=8 --count=2"));
        assertEquals("8 2", registry.lookup("pmem0").attributes().read("badblocks"));
        assertEquals("""
                {
                  "dev":"namespace0.0",
                  "badblocks":[
                    {
                      "block":8,
                      "count":2
                    }
                  ]
                }
                """, run("inject-error namespace0.0 --status"));
        assertTrue(run("inject-error pmem0 -B 8 -n 2 --uninject").startsWith("Warning: Un-injecting previously injected errors"));
        assertEquals("{\n  \"dev\":\"namespace0.0\"\n}\n", run("inject-error namespace0.0 --status"));
    }

    @Test
    void errors() {
        assertEquals("ndctl inject-error: namespace not found: namespace7.0",
                assertThrows(CommandException.class, () -> run("inject-error namespace7.0 --block=1")).getMessage());
        assertTrue(assertThrows(CommandException.class, () -> run("inject-error namespace0.0")).getMessage()
                .startsWith("ndctl inject-error: --block is required\nUsage:"));
        assertTrue(assertThrows(CommandException.class, () -> run("frob")).getMessage().startsWith("ndctl: unknown command 'frob'"));
    }
}
