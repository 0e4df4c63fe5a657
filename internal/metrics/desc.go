package metrics

import "github.com/prometheus/client_golang/prometheus"

func desc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, labels, nil)
}

// gauge and counter build const metrics; the descs and values are ours,
// so an error is a programming mistake and is reported as an invalid
// metric rather than a panic.
func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return constMetric(d, prometheus.GaugeValue, v, labels)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return constMetric(d, prometheus.CounterValue, v, labels)
}

func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// withKeys returns counts with a zero entry for every key in keys, so the
// series exist before the first event.
func withKeys[V int | uint64](counts map[string]V, keys ...string) map[string]V {
	out := make(map[string]V, len(counts)+len(keys))
	for _, k := range keys {
		out[k] = 0
	}
	for k, v := range counts {
		out[k] = v
	}
	return out
}
