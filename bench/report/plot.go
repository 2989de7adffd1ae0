package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// series is one line of a panel: its label, colour and points.
type series struct {
	label, color string
	dash         bool
	pts          [][2]float64 // x, y
}

// panel is one chart: log-scaled axes, several series.
type panel struct {
	title, xlabel string
	xs            []float64 // the ticks on x
	series        []series
}

// plot draws throughput against payload size (Encrypt) and against the
// calls in flight (Encrypt 32 B), side by side, in SVG.
func plot(rs *results) []byte {
	sizes := []float64{32, 1024, 4096}
	bySize := func(label, color string, dash bool, name func(size string) string) series {
		s := series{label: label, color: color, dash: dash}
		for _, x := range sizes {
			if v, ok := rs.median(name(fmt.Sprint(x)), "ops/s"); ok {
				s.pts = append(s.pts, [2]float64{x, v})
			}
		}
		return s
	}
	enc := func(mode string) func(string) string {
		return func(size string) string { return kmsdName("Encrypt", size, mode) }
	}
	peer := func(mode string) func(string) string {
		return func(size string) string { return peerName("Encrypt", size, mode) }
	}
	p1 := panel{title: "Encrypt: throughput by payload size", xlabel: "payload bytes", xs: sizes, series: []series{
		bySize("raw XAES seal, every core", "#555555", true, rawName),
		bySize("kmsd, batches of 4096", "#1f77b4", false, enc("batch=4096")),
		bySize("kmsd, 64 callers", "#2ca02c", false, enc("callers=64")),
		bySize("kmsd, 1 caller", "#ff7f0e", false, enc("sync")),
		bySize("kmsd FUSE, 1 caller", "#9467bd", false, enc("fuse=1")),
		bySize("local-kms, 64 callers", "#d62728", true, peer("callers=64")),
		bySize("local-kms, 1 caller", "#e377c2", true, peer("sync")),
	}}
	byFlight := func(label, color string, dash bool, names map[float64]string) series {
		s := series{label: label, color: color, dash: dash}
		for _, x := range []float64{1, 16, 64, 256, 4096} {
			if n, ok := names[x]; ok {
				if v, ok := rs.median(n, "ops/s"); ok {
					s.pts = append(s.pts, [2]float64{x, v})
				}
			}
		}
		return s
	}
	k := func(mode string) string { return kmsdName("Encrypt", "32", mode) }
	pe := func(mode string) string { return peerName("Encrypt", "32", mode) }
	p2 := panel{title: "Encrypt 32 B: throughput by calls in flight", xlabel: "calls (or batch items) in flight", xs: []float64{1, 16, 64, 256, 4096}, series: []series{
		byFlight("kmsd, one batch of N", "#1f77b4", false, map[float64]string{16: k("batch=16"), 256: k("batch=256"), 4096: k("batch=4096")}),
		byFlight("kmsd, N callers (1, 64: one client; 16: conns)", "#2ca02c", false, map[float64]string{1: k("sync"), 16: k("conns=16"), 64: k("callers=64")}),
		byFlight("kmsd FUSE, N callers", "#9467bd", false, map[float64]string{1: k("fuse=1"), 16: k("fuse=16")}),
		byFlight("local-kms, N callers", "#d62728", true, map[float64]string{1: pe("sync"), 16: pe("conns=16"), 64: pe("callers=64")}),
	}}
	var b strings.Builder
	const w, h = 1000, 430
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#555">%s</text>`+"\n", h-8, html.EscapeString("ops/s, medians; machine: "+rs.machine()))
	p1.draw(&b, 0, 0, w/2, h-20)
	p2.draw(&b, w/2, 0, w/2, h-20)
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// draw renders the panel into the box at (x0, y0) of size w x h.
func (p panel) draw(b *strings.Builder, x0, y0, w, h int) {
	left, right, top, bottom := float64(x0+70), float64(x0+w-20), float64(y0+30), float64(y0+h-150)
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, pt := range s.pts {
			ymin, ymax = math.Min(ymin, pt[1]), math.Max(ymax, pt[1])
		}
	}
	if math.IsInf(ymin, 0) {
		ymin, ymax = 1, 10
	}
	lo, hi := math.Floor(math.Log10(ymin)), math.Ceil(math.Log10(ymax))
	if hi == lo {
		hi++
	}
	xl, xh := math.Log2(p.xs[0]), math.Log2(p.xs[len(p.xs)-1])
	px := func(x float64) float64 { return left + (math.Log2(x)-xl)/(xh-xl)*(right-left) }
	py := func(y float64) float64 { return bottom - (math.Log10(y)-lo)/(hi-lo)*(bottom-top) }
	fmt.Fprintf(b, `<text x="%.0f" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", left, y0+18, html.EscapeString(p.title))
	for e := lo; e <= hi; e++ {
		y := py(math.Pow(10, e))
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/>`, left, y, right, y)
		fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-5, y+4, si(math.Pow(10, e)))
	}
	for _, x := range p.xs {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`, px(x), top, px(x), bottom)
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%g</text>`+"\n", px(x), bottom+15, x)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`+"\n", (left+right)/2, bottom+32, html.EscapeString(p.xlabel))
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`+"\n", left, top, right-left, bottom-top)
	for i, s := range p.series {
		dash := ""
		if s.dash {
			dash = ` stroke-dasharray="6,4"`
		}
		if len(s.pts) > 0 {
			var pts []string
			for _, pt := range s.pts {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(pt[0]), py(pt[1])))
			}
			fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), s.color, dash)
			for _, pt := range s.pts {
				fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>`+"\n", px(pt[0]), py(pt[1]), s.color, html.EscapeString(fmt.Sprintf("%s at %g: %s ops/s", s.label, pt[0], num(pt[1]))))
			}
		}
		label := s.label
		if len(s.pts) == 0 {
			label += " (not measured)"
		}
		ly := bottom + 50 + float64(i)*15
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="%s" stroke-width="2"%s/>`, left, ly-4, left+25, ly-4, s.color, dash)
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f">%s</text>`+"\n", left+32, ly, html.EscapeString(label))
	}
}

// si is n with a k or M suffix.
func si(n float64) string {
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%gM", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%gk", n/1e3)
	}
	return fmt.Sprintf("%g", n)
}
