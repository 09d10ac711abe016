package org.dmstack.shell.lsblk;

import java.util.Locale;

/**
 * JSON as util-linux writes it (lib/jsonwrt.c, used by libsmartcols for {@code lsblk -J}): three
 * spaces per level, names lower-cased, unnamed array items after " ", a following unnamed object
 * joined as "},{", empty values as null.
 */
final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    private int indent;
    private boolean afterClose;

    private enum Kind { OBJECT, ARRAY, VALUE }

    void openObject(String name) {
        open(name, Kind.OBJECT);
    }

    void closeObject() {
        close(Kind.OBJECT);
    }

    void openArray(String name) {
        open(name, Kind.ARRAY);
    }

    void closeArray() {
        close(Kind.ARRAY);
    }

    /** A string value; null when empty. */
    void string(String name, String data) {
        value(name, data.isEmpty() ? "null" : quote(data));
    }

    /** A number (or any raw JSON text); null when empty. */
    void raw(String name, String data) {
        value(name, data.isEmpty() ? "null" : data);
    }

    void bool(String name, boolean data) {
        value(name, data ? "true" : "false");
    }

    String text() {
        return out.toString();
    }

    private void value(String name, String text) {
        open(name, Kind.VALUE);
        out.append(text);
        close(Kind.VALUE);
    }

    private void open(String name, Kind kind) {
        if (name != null) {
            if (afterClose) out.append(",\n");
            indent();
            out.append(quote(name.toLowerCase(Locale.ROOT)));
        } else if (afterClose) {
            out.append(',');
        } else {
            indent();
        }
        switch (kind) {
            case OBJECT -> {
                out.append(name != null ? ": {\n" : "{\n");
                indent++;
            }
            case ARRAY -> {
                out.append(name != null ? ": [\n" : "[\n");
                indent++;
            }
            case VALUE -> out.append(name != null ? ": " : " ");
        }
        afterClose = false;
    }

    private void close(Kind kind) {
        if (kind != Kind.VALUE) {
            indent--;
            out.append('\n');
            indent();
            out.append(kind == Kind.OBJECT ? '}' : ']');
            if (kind == Kind.OBJECT && indent == 0) out.append('\n');
        }
        afterClose = true;
    }

    private void indent() {
        out.append("   ".repeat(indent));
    }

    /** fputs_quoted_json: quotes and backslashes escaped, control characters as \b \t \n \f \r or \\u00XX. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"', '\\' -> sb.append('\\').append(c);
                case '\b' -> sb.append("\\b");
                case '\t' -> sb.append("\\t");
                case '\n' -> sb.append("\\n");
                case '\f' -> sb.append("\\f");
                case '\r' -> sb.append("\\r");
                default -> {
                    if (c < 0x20) sb.append(String.format(Locale.ROOT, "\\u00%02x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
