"""A handler module whose module-level code raises."""

print("starting init")
raise RuntimeError("config missing at init")
