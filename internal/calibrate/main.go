package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

func main() {
	s := DefaultSettings()
	flag.Uint64Var(&s.Seed, "seed", s.Seed, "seed of every random stream")
	flag.IntVar(&s.Rollouts, "rollouts", s.Rollouts, "rollouts per model, scenario and judge")
	flag.IntVar(&s.Step, "step", s.Step, "step (cluster) in seconds")
	flag.IntVar(&s.Window, "window", s.Window, "fixed window in steps")
	only := flag.String("models", "", "comma-separated model names (default: all)")
	flag.Parse()
	models := Models
	if *only != "" {
		models = nil
		for _, name := range strings.Split(*only, ",") {
			for _, m := range Models {
				if m.Name == name {
					models = append(models, m)
				}
			}
		}
	}
	res := Run(s, models, Scenarios)
	Table(os.Stdout, s, models, res)
}

// Table writes the markdown table: per model, one row per judge, A/A false
// alarms per look and per rollout, then the detection rate per rollout of
// each regression the judge's data can see.
func Table(w io.Writer, s Settings, models []Model, res map[string]map[string]map[string]*Cell) {
	fmt.Fprintf(w, "Seed %d, %d rollouts per model, scenario and judge; step %d s, alpha %g.\n\n",
		s.Seed, s.Rollouts, s.Step, s.Alpha)
	se := func(p float64, n int) float64 { return math.Sqrt(p * (1 - p) / float64(n)) }
	for _, m := range models {
		fmt.Fprintf(w, "**%s** — %s; rollouts of %d min, a look every %s, fixed window %d steps (%s)\n\n", m.Name, m.Description,
			m.seconds()/60, time.Duration(m.look(s))*time.Second, m.window(s), time.Duration(m.window(s)*s.Step)*time.Second)
		fmt.Fprintln(w, "| judge | A/A false alarms per look | A/A rollouts with a failed look | A/A rollbacks (≥ 5 failed looks) | A/A inconclusive looks (rollouts never decided) | latency ×1.1 | p99 tail ×3 | errors ×2 | errors ×5 |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
		for _, c := range columns(s) {
			aa := res[m.Name]["A/A"][c.Name]
			row := []string{c.Name}
			if c.Sequential {
				row = append(row, "—")
			} else {
				row = append(row, fmt.Sprintf("%.2f%% ± %.2f", 100*aa.LookRate(), 100*se(aa.LookRate(), aa.Rollouts)))
			}
			row = append(row, fmt.Sprintf("%.1f%%", 100*aa.RolloutRate()), fmt.Sprintf("%.1f%%", 100*float64(aa.Rollbacks)/float64(aa.Rollouts)),
				fmt.Sprintf("%.1f%% (%.1f%%)", 100*aa.InconclusiveRate(), 100*aa.UndecidedRate()))
			for _, sc := range Scenarios[1:] {
				relevant := (c.Kind == "latency") == (sc.ErrorFactor == 1)
				if !relevant {
					row = append(row, "—")
					continue
				}
				cell := res[m.Name][sc.Name][c.Name]
				row = append(row, fmt.Sprintf("%.1f%%", 100*cell.RolloutRate()))
			}
			fmt.Fprintln(w, "| "+strings.Join(row, " | ")+" |")
		}
		fmt.Fprintln(w)
	}
}
