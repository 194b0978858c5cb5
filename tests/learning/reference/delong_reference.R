# Cross-checks DeLong values with pROC (Robin et al. 2011), Debian's
# r-cran-proc 1.18.0 (not a build or test dependency: install it only to rerun
# this). Run: Rscript tests/learning/reference/delong_reference.R
suppressMessages(library(pROC))

# 1. The published example of pROC's roc.test documentation (aSAH data that
#    ships with pROC): Z = -2.209, p-value = 0.02718; ci.auc(s100b) with
#    DeLong: 0.6301-0.8326. Written to aSAH.csv (y = outcome is "Poor"), the
#    file committed beside this script (aSAH.README.md: provenance, licence).
data(aSAH)
r1 <- roc(aSAH$outcome, aSAH$s100b, quiet = TRUE, direction = "<", levels = c("Good", "Poor"))
r2 <- roc(aSAH$outcome, aSAH$wfns, quiet = TRUE, direction = "<", levels = c("Good", "Poor"))
t <- roc.test(r1, r2, method = "delong")
cat(sprintf("aSAH: auc %.17g %.17g z=%.17g p=%.17g var(s100b)=%.17g\n",
            auc(r1), auc(r2), t$statistic, t$p.value, var(r1, method = "delong")))
ci <- ci.auc(r1, method = "delong")
cat(sprintf("aSAH: ci(s100b) %.17g %.17g\n", ci[1], ci[3]))
write.csv(data.frame(y = as.integer(aSAH$outcome == "Poor"), s100b = aSAH$s100b,
                     wfns = as.numeric(aSAH$wfns)), "aSAH.csv", row.names = FALSE, quote = FALSE)

# 2. The fixed vectors of tests/learning/metrics_test.cpp.
y <- c(0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0)
a <- c(0.1, 0.4, 0.35, 0.8, 0.4, 0.9, 0.2, 0.35, 0.7, 0.6, 0.4, 0.05)
b <- c(0.3, 0.5, 0.3, 0.7, 0.1, 0.7, 0.3, 0.6, 0.9, 0.2, 0.5, 0.0)
ra <- roc(y, a, quiet = TRUE, direction = "<", levels = c(0, 1))
rb <- roc(y, b, quiet = TRUE, direction = "<", levels = c(0, 1))
cat(sprintf("var a %.17g var b %.17g\n", var(ra, method = "delong"), var(rb, method = "delong")))
ca <- ci.auc(ra, method = "delong")
cat(sprintf("ci a %.17g %.17g\n", ca[1], ca[3]))
tt <- roc.test(ra, rb, method = "delong")
tl <- roc.test(ra, rb, method = "delong", alternative = "less")
cat(sprintf("paired z=%.17g p=%.17g p_less=%.17g\n", tt$statistic, tt$p.value, tl$p.value))
