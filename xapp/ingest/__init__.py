"""From decoded reports to per-UE windows of model features."""
