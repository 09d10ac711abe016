package org.dmstack.shell.lsblk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** lib/jsonwrt.c's layout and escapes, on the shapes lsblk does not produce by itself. */
class JsonWriterTest {
    @Test
    void escapesAsFputsQuotedJson() {
        assertEquals("\"a\\\"b\\\\c\\td\\ne\\u0001/'\"", JsonWriter.quote("a\"b\\c\td\ne\u0001/'"));
    }

    @Test
    void namesLowerCasedArraysOfSeveralItemsAndNumbers() {
        JsonWriter w = new JsonWriter();
        w.openObject(null);
        w.openArray("Items");
        w.string(null, "x");
        w.string(null, "");
        w.raw(null, "7");
        w.closeArray();
        w.bool("OK", true);
        w.raw("N", "");
        w.closeObject();
        assertEquals("""
                {
                   "items": [
                       "x", null, 7
                   ],
                   "ok": true,
                   "n": null
                }
                """, w.text());
    }
}
