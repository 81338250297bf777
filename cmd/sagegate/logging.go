package main

import (
	"io"
	"log/slog"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/reqid"
)

// newLogger builds the operational logger from the config. Every record
// logged with a request's context carries its request id.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if c.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(reqid.Handler{Handler: h})
}
