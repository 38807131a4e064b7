/* Grouped bar chart as a standalone SVG document. */
#include <math.h>
#include <string.h>

#include "metrics.h"

/* Colour-blind-safe palette (Okabe-Ito), first colour grey for the source model. */
static const char *const palette[] = {"#7f7f7f", "#0072b2", "#e69f00", "#009e73",
                                      "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"};
#define N_PALETTE (sizeof palette / sizeof palette[0])

static void xml_text(sa_strbuf *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': sa_strbuf_printf(out, "&lt;"); break;
        case '>': sa_strbuf_printf(out, "&gt;"); break;
        case '&': sa_strbuf_printf(out, "&amp;"); break;
        case '"': sa_strbuf_printf(out, "&quot;"); break;
        case '\'': sa_strbuf_printf(out, "&apos;"); break;
        default: sa_strbuf_append(out, s, 1);
        }
    }
}

void sa_svg_bars(sa_strbuf *out, const sa_table *t, const char *title, const char *y_label)
{
    const int groups = sa_table_rows(t), series = sa_table_cols(t);
    const double bar_w = 12.0, gap = 14.0, left = 64.0, top = 40.0, plot_h = 260.0;
    const double group_w = bar_w * (series > 0 ? series : 1) + gap;
    const double plot_w = group_w * (groups > 0 ? groups : 1);
    const double legend_w = 180.0, bottom = 120.0;
    const double width = left + plot_w + legend_w, height = top + plot_h + bottom;

    double vmax = 0.0;
    for (int g = 0; g < groups; g++)
        for (int s = 0; s < series; s++) {
            double v = sa_table_get(t, g, s);
            if (!isnan(v) && v > vmax)
                vmax = v;
        }
    double ymax = vmax > 0.0 ? 10.0 * ceil(vmax / 10.0) : 10.0;
    double tick = ymax > 50.0 ? 20.0 : ymax > 20.0 ? 10.0 : ymax > 10.0 ? 5.0 : 2.0;

    sa_strbuf_printf(out,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
                     "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" "
                     "font-size=\"11\">\n",
                     width, height, width, height);
    sa_strbuf_printf(out, "<title>");
    xml_text(out, title);
    sa_strbuf_printf(out, "</title>\n<text x=\"%.1f\" y=\"20\" font-size=\"14\" font-weight=\"bold\">",
                     left);
    xml_text(out, title);
    sa_strbuf_printf(out, "</text>\n");

    /* y axis: grid lines, ticks, label */
    const double y0 = top + plot_h;
    for (double v = 0.0; v <= ymax + 1e-9; v += tick) {
        double y = y0 - plot_h * v / ymax;
        sa_strbuf_printf(out,
                         "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n"
                         "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                         left, y, left + plot_w, y, left - 6.0, y + 4.0, v);
    }
    sa_strbuf_printf(out,
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n"
                     "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                     left, top, left, y0, left, y0, left + plot_w, y0);
    sa_strbuf_printf(out, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                     top + plot_h / 2.0);
    xml_text(out, y_label);
    sa_strbuf_printf(out, "</text>\n");

    /* bars, and the group names under them */
    for (int g = 0; g < groups; g++) {
        double gx = left + gap / 2.0 + g * group_w;
        for (int s = 0; s < series; s++) {
            double v = sa_table_get(t, g, s);
            if (isnan(v))
                continue;
            double h = plot_h * (v < 0.0 ? 0.0 : v) / ymax;
            sa_strbuf_printf(out,
                             "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                             "fill=\"%s\"><title>",
                             gx + s * bar_w, y0 - h, bar_w - 1.0, h, palette[(size_t)s % N_PALETTE]);
            xml_text(out, sa_table_row_name(t, g));
            sa_strbuf_printf(out, ", ");
            xml_text(out, sa_table_col_name(t, s));
            sa_strbuf_printf(out, ": %.2f</title></rect>\n", v);
        }
        double cx = gx + bar_w * series / 2.0;
        sa_strbuf_printf(out,
                         "<text transform=\"translate(%.1f %.1f) rotate(-45)\" text-anchor=\"end\">",
                         cx, y0 + 12.0);
        xml_text(out, sa_table_row_name(t, g));
        sa_strbuf_printf(out, "</text>\n");
    }

    /* legend: one swatch (a path, so that <rect> counts bars) per series */
    double lx = left + plot_w + 20.0;
    for (int s = 0; s < series; s++) {
        double ly = top + 8.0 + 18.0 * s;
        sa_strbuf_printf(out,
                         "<path d=\"M%.1f %.1fh12v12h-12z\" fill=\"%s\"/>\n"
                         "<text x=\"%.1f\" y=\"%.1f\">",
                         lx, ly, palette[(size_t)s % N_PALETTE], lx + 18.0, ly + 10.0);
        xml_text(out, sa_table_col_name(t, s));
        sa_strbuf_printf(out, "</text>\n");
    }
    sa_strbuf_printf(out, "</svg>\n");
}
