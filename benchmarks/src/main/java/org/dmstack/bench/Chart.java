package org.dmstack.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The report's chart: one panel per goal, a horizontal bar per ratio (1.0 = as fast as the
 * baseline), the goal as a dashed line. Green bars meet their goal, red ones miss it, grey ones
 * have no goal of their own. Drawn with Java2D, headless.
 */
final class Chart {
    /** One bar: a label, a ratio, and the goal it must reach (NaN: none). */
    record Bar(String label, double ratio, double goal) {}

    /** One panel: a title and its bars. */
    record Panel(String title, List<Bar> bars) {}

    private static final int WIDTH = 1100;
    private static final int LABEL = 330;
    private static final int ROW = 20;
    private static final int TITLE = 34;
    private static final int GAP = 18;
    private static final Color GOOD = new Color(0x2e, 0x9e, 0x4f);
    private static final Color BAD = new Color(0xd6, 0x3b, 0x2f);
    private static final Color NEUTRAL = new Color(0x90, 0x98, 0xa4);

    private Chart() {}

    static void write(String title, String subtitle, List<Panel> panels, Path file) throws IOException {
        List<Panel> shown = new ArrayList<>();
        for (Panel p : panels) if (!p.bars().isEmpty()) shown.add(p);
        int height = 70;
        for (Panel p : shown) height += TITLE + p.bars().size() * ROW + GAP + 16;
        height += 20;
        BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
            g.drawString(title, 20, 32);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setColor(Color.DARK_GRAY);
            g.drawString(subtitle, 20, 54);
            int y = 70;
            for (Panel p : shown) y = panel(g, p, y);
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static int panel(Graphics2D g, Panel p, int y) {
        double max = 1.2;
        for (Bar b : p.bars()) if (!Double.isNaN(b.ratio())) max = Math.max(max, b.ratio() * 1.08);
        int x0 = LABEL;
        int x1 = WIDTH - 90;
        double scale = (x1 - x0) / max;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.BLACK);
        g.drawString(p.title(), 20, y + 22);
        y += TITLE;
        int top = y;
        int bottom = y + p.bars().size() * ROW;
        // Grid every 25 %.
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        for (double v = 0; v <= max + 1e-9; v += 0.25) {
            int x = (int) (x0 + v * scale);
            g.setColor(v == 1.0 ? Color.GRAY : new Color(0xe4, 0xe7, 0xeb));
            g.drawLine(x, top - 2, x, bottom);
            g.setColor(Color.GRAY);
            String t = String.format(Locale.ROOT, "%.0f%%", v * 100);
            g.drawString(t, x - g.getFontMetrics().stringWidth(t) / 2, bottom + 12);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (Bar b : p.bars()) {
            g.setColor(Color.BLACK);
            g.drawString(b.label(), x0 - 8 - fm.stringWidth(b.label()), y + 14);
            if (Double.isNaN(b.ratio())) {
                g.setColor(Color.GRAY);
                g.drawString("not measured", x0 + 4, y + 14);
            } else {
                boolean hasGoal = !Double.isNaN(b.goal());
                g.setColor(!hasGoal ? NEUTRAL : b.ratio() >= b.goal() ? GOOD : BAD);
                int w = (int) Math.max(1, b.ratio() * scale);
                g.fillRect(x0, y + 3, w, ROW - 6);
                g.setColor(Color.BLACK);
                g.drawString(String.format(Locale.ROOT, "%.0f%%", b.ratio() * 100), x0 + w + 4, y + 14);
                if (hasGoal) {
                    int gx = (int) (x0 + b.goal() * scale);
                    g.setColor(BAD.darker());
                    g.setStroke(new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 3f}, 0f));
                    g.drawLine(gx, y + 1, gx, y + ROW - 1);
                    g.setStroke(new BasicStroke(1f));
                }
            }
            y += ROW;
        }
        return bottom + GAP + 16;
    }
}
