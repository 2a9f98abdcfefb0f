# Reference values for the per-step (cluster) statistics of analysis/judges,
# computed by R's own functions. Regenerate with
#   Rscript analysis/judges/testdata/r-clusters.R > analysis/judges/testdata/r-clusters.json
# (R 4.2.2, Debian r-base-core; no extra packages).
set.seed(20261207)
num <- function(x) sprintf("%.17g", x)
vec <- function(x) paste0("[", paste(sapply(x, num), collapse = ","), "]")
out <- c()

# Student t upper tails: pt(q, df, lower.tail = FALSE).
pts <- c()
for (df in c(1, 2, 4, 9, 19, 60)) for (q in c(-1.5, 0.3, 1.7, 2.5, 6)) {
  pts <- c(pts, sprintf('{"t":%s,"df":%s,"upper":%s}', num(q), num(df), num(pt(q, df, lower.tail = FALSE))))
}
out <- c(out, sprintf('"pt":[%s]', paste(pts, collapse = ",")))

# Mantel-Haenszel chi-squared without continuity correction on 2x2xK tables
# (rows canary/baseline, columns errors/successes), K steps.
cmh <- c()
for (case in 1:4) {
  K <- c(3, 6, 10, 20)[case]
  n1 <- rpois(K, 400); n0 <- rpois(K, 600)
  p <- 0.01 * exp(rnorm(K, 0, 0.8))           # shared per-step error bursts
  x1 <- rbinom(K, n1, pmin(1, p * c(1, 1, 1.5, 2)[case])); x0 <- rbinom(K, n0, p)
  tab <- array(0, c(2, 2, K))
  for (k in 1:K) tab[, , k] <- matrix(c(x1[k], x0[k], n1[k] - x1[k], n0[k] - x0[k]), 2, 2)
  keep <- (x1 + x0) > 0 & (x1 + x0) < (n1 + n0)
  st <- mantelhaen.test(tab[, , keep, drop = FALSE], correct = FALSE)$statistic
  cmh <- c(cmh, sprintf('{"n1":%s,"x1":%s,"n0":%s,"x0":%s,"statistic":%s}', vec(n1), vec(x1), vec(n0), vec(x0), num(st)))
}
out <- c(out, sprintf('"mantelHaenszel":[%s]', paste(cmh, collapse = ",")))

# Per-step Mann-Whitney on bucketed latencies: W (= U) and the tie-corrected
# normal z of wilcox.test(exact = FALSE, correct = FALSE), per step.
bounds <- c(10, 25, 50, 100, 250, Inf)
mw <- c()
for (k in 1:5) {
  f <- exp(rnorm(1, 0, 0.3))                  # the step's shared latency factor
  a <- 40 * f * exp(rnorm(rpois(1, 150), 0, 0.6)) * 1.1
  b <- 40 * f * exp(rnorm(rpois(1, 200), 0, 0.6))
  ai <- findInterval(a, c(-Inf, bounds[-length(bounds)]), left.open = TRUE)
  bi <- findInterval(b, c(-Inf, bounds[-length(bounds)]), left.open = TRUE)
  ca <- sapply(seq_along(bounds), function(j) sum(ai <= j))
  cb <- sapply(seq_along(bounds), function(j) sum(bi <= j))
  w <- suppressWarnings(wilcox.test(ai, bi, exact = FALSE, correct = FALSE))
  z <- qnorm(w$p.value / 2, lower.tail = FALSE) * sign(w$statistic - length(ai) * length(bi) / 2)
  mw <- c(mw, sprintf('{"canary":%s,"baseline":%s,"u":%s,"z":%s}', vec(ca), vec(cb), num(w$statistic), num(z)))
}
out <- c(out, sprintf('"mannWhitneySteps":[%s]', paste(mw, collapse = ",")))

# The histogram judge's tail test: per step, bucketed latencies (the canary's
# slowest 1% three times slower in case 1, none in case 2); the bound is the
# smallest finite bound with at most 1% of both sides' observations above it;
# the per-step shares above it go through mantelhaen.test (no continuity
# correction); the quasi-likelihood p-value is the t(K - 1) tail of
# z / sqrt(max(1, phi)), phi the Pearson dispersion of the per-step
# Mantel-Haenszel terms around their common effect.
tb <- c(25, 50, 100, 250, 500, 1000, Inf)
tails <- c()
for (case in 1:2) {
  K <- 8
  cs <- list(); bs <- list()
  for (k in 1:K) {
    f <- exp(rnorm(1, 0, 0.3))                # the step's shared latency factor
    a <- 80 * f * exp(rnorm(rpois(1, 600), 0, 0.6))
    q99 <- 80 * f * exp(0.6 * qnorm(0.99))
    if (case == 1) a[a > q99] <- 3 * a[a > q99]
    b <- 80 * f * exp(rnorm(rpois(1, 2400), 0, 0.6))
    cs[[k]] <- sapply(tb, function(u) sum(a <= u))
    bs[[k]] <- sapply(tb, function(u) sum(b <= u))
  }
  last <- length(tb)
  pooled <- Reduce(`+`, cs) + Reduce(`+`, bs)
  j <- which(pooled[last] - pooled[-last] <= 0.01 * pooled[last])[1]
  if (is.na(j)) j <- last - 1
  n1 <- as.numeric(sapply(cs, function(x) x[last])); x1 <- n1 - sapply(cs, function(x) x[j])
  n0 <- as.numeric(sapply(bs, function(x) x[last])); x0 <- n0 - sapply(bs, function(x) x[j])
  keep <- (x1 + x0) > 0 & (x1 + x0) < (n1 + n0)
  tab <- array(0, c(2, 2, K))
  for (k in 1:K) tab[, , k] <- matrix(c(x1[k], x0[k], n1[k] - x1[k], n0[k] - x0[k]), 2, 2)
  st <- mantelhaen.test(tab[, , keep, drop = FALSE], correct = FALSE)$statistic
  N <- n1 + n0; X <- x1 + x0
  S <- (x1 - n1 * X / N)[keep]; V <- (n1 * n0 * X * (N - X) / (N^2 * (N - 1)))[keep]
  phi <- sum((S - sum(S) / sum(V) * V)^2 / V) / (sum(keep) - 1)
  z <- sum(S) / sqrt(max(1, phi) * sum(V))
  mat <- function(l) paste0("[", paste(sapply(l, vec), collapse = ","), "]")
  tails <- c(tails, sprintf('{"bounds":%s,"canary":%s,"baseline":%s,"le":%s,"steps":%d,"statistic":%s,"phi":%s,"p":%s}',
    vec(tb[-last]), mat(cs), mat(bs), num(tb[j]), sum(keep), num(st), num(phi), num(pt(z, sum(keep) - 1, lower.tail = FALSE))))
}
out <- c(out, sprintf('"tail":[%s]', paste(tails, collapse = ",")))
cat("{", paste(out, collapse = ",\n"), "}\n", sep = "")
