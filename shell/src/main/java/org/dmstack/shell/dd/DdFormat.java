package org.dmstack.shell.dd;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Locale;

/** GNU dd's number formats: human_readable() sizes and rates, and C's "%g". */
final class DdFormat {
    private static final String[] SI = {"", "k", "M", "G", "T", "P", "E"};
    private static final String[] IEC = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

    private DdFormat() {}

    /** "4.2 MB" (base 1000) as dd prints sizes and rates; "512 B" below 1000. */
    static String si(double value) {
        return human(value, 1000, SI);
    }

    /** "4.0 MiB" (base 1024). */
    static String iec(double value) {
        return human(value, 1024, IEC);
    }

    private static String human(double value, int base, String[] prefixes) {
        if (Double.isInfinite(value) || Double.isNaN(value)) return "Infinity B";
        int e = 0;
        double v = value;
        while (v >= base && e < prefixes.length - 1) {
            v /= base;
            e++;
        }
        String num;
        if (e == 0 && v == Math.rint(v)) {
            num = Long.toString((long) v);
        } else if (v < 10) {
            double r = Math.round(v * 10) / 10.0;
            if (r >= 10) num = "10";
            else num = String.format(Locale.ROOT, "%.1f", r);
        } else {
            long r = Math.round(v);
            if (r >= base && e < prefixes.length - 1) {
                e++;
                num = String.format(Locale.ROOT, "%.1f", r / (double) base);
            } else {
                num = Long.toString(r);
            }
        }
        return num + " " + prefixes[e] + "B";
    }

    /** C printf's "%g": six significant digits, trailing zeros dropped, exponent form when very small or large. */
    static String g(double value) {
        if (value == 0) return "0";
        if (Double.isInfinite(value)) return value > 0 ? "inf" : "-inf";
        BigDecimal bd = new BigDecimal(value).round(new MathContext(6, RoundingMode.HALF_EVEN));
        int exponent = bd.precision() - bd.scale() - 1;
        if (exponent < -4 || exponent >= 6) {
            String mantissa = strip(bd.movePointLeft(exponent).toPlainString());
            return mantissa + (exponent < 0 ? "e-" : "e+") + String.format(Locale.ROOT, "%02d", Math.abs(exponent));
        }
        return strip(bd.toPlainString());
    }

    private static String strip(String s) {
        if (!s.contains(".")) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
