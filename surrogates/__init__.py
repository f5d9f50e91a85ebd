"""nasuite.surrogates: estimating performance without training (predictors, zero-cost proxies)."""
