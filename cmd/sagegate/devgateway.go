package main

import (
	"os"
	"path/filepath"

	"github.com/sagegate/sagegate/internal/config"
	"github.com/sagegate/sagegate/internal/sandbox"
)

// writeGatewayConfig writes the `sagegate serve` configuration equivalent
// to the sandbox's gateway at devURL. It replaces path atomically, so a
// script waiting for the file never reads half of it.
func writeGatewayConfig(path string, pop sandbox.Population, devURL, gatewayAddr, level string) error {
	body, err := sandbox.GatewayConfig(pop, devURL, gatewayAddr, config.Log{Level: level, Format: "text"})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sagegate-gateway-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
