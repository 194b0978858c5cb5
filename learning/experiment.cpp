// The scenario runner: centralized vs the paper's six chained scenarios and
// FedAvg on the same partitions. Torch-free: it drives models only through
// model.h, train.h and federated.h.
#include "learning/experiment.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <future>
#include <numeric>
#include <thread>

#include "chain/privacy_budget.h"
#include "learning/local_dp.h"
#include "learning/metrics.h"
#include "learning/splits.h"
#include "secagg/secagg.h"

namespace baton::learning {
namespace {

// One training job: who trains, in which order.
struct Job {
  std::string name;
  std::string description;
  std::vector<std::vector<std::size_t>> partners;  // training-row indices per partner
  bool centralized = false;
  // Position among all thirteen jobs (0 centralized, k chained scenario k,
  // 6 + k federated on scenario k): the seeds stay when some are left out.
  std::size_t seed_index = 0;
  bool federated = false;
};

struct Trained {
  Predictions predictions;
  chain::Hash hash;
  std::vector<TrainerPrivacy> privacy;
  std::vector<double> auc_per_round;  // federated
  std::size_t clipped = 0;            // federated
};

// Local DP seed of one trainer's copy: fixed across its visits (the same
// noisy copy every time), distinct per (row, partner).
std::uint64_t local_dp_seed(std::uint64_t seed, std::size_t job, std::size_t partner) {
  return (seed * 1000003ull + job * 10007ull + partner) ^ 0x6c6f63616c2d6470ull;  // "local-dp"
}

// The DP-SGD settings of a trainer of `rows` rows that takes `visits` visits
// of `epochs` epochs: q = ⌈batch × 10^9 / rows⌉ nano, δ = ⌊10^12 / rows⌋ pico,
// the smallest σ within the target ε.
Result<TrainerPrivacy> dp_sgd_trainer(const ExperimentPlan& plan, std::size_t rows, int epochs,
                                      int visits) {
  TrainerPrivacy t;
  t.rows = rows;
  const auto batch = static_cast<std::uint64_t>(plan.train.batch_size);
  t.sampling_rate_nano =
      std::min<std::uint64_t>((batch * 1'000'000'000 + rows - 1) / rows, 1'000'000'000);
  t.steps = static_cast<std::uint64_t>(epochs) * static_cast<std::uint64_t>(visits) *
            chain::dp_steps_per_epoch(t.sampling_rate_nano);
  t.delta_pico = std::max<std::uint64_t>(1, 1'000'000'000'000ull / rows);
  chain::PrivacyParameters p{0, t.sampling_rate_nano, t.steps, t.delta_pico};
  const auto target = static_cast<std::uint64_t>(std::floor(plan.privacy.target_epsilon * 1e6));
  auto sigma = chain::smallest_noise_multiplier(p, target);
  if (!sigma)
    return make_error("no noise multiplier reaches ε " +
                      std::to_string(plan.privacy.target_epsilon) + " for " + std::to_string(rows) +
                      " rows: " + sigma.error().message);
  p.noise_multiplier_micro = *sigma;
  auto spent = chain::epsilon_spent(p);
  if (!spent) return spent.error();
  t.noise_multiplier = static_cast<double>(*sigma) / 1e6;
  t.epsilon = static_cast<double>(spent->epsilon_micro) / 1e6;
  return t;
}

// Batch-order seed of one visit, distinct for every (row, cycle, partner).
std::uint64_t visit_seed(std::uint64_t seed, std::size_t job, int cycle, std::size_t partner) {
  return seed * 1000003ull + job * 10007ull + static_cast<std::uint64_t>(cycle) * 101ull + partner;
}

// The headline AUC of a set of predictions: binary, the ROC AUC; multi-class,
// the mean of the one-vs-rest AUCs (as score_row computes ExperimentRow::auc).
Result<double> headline_auc(const std::vector<int>& labels, const Predictions& predictions) {
  if (predictions.num_classes == 2) return roc_auc(labels, predictions.scores());
  auto per_class = one_vs_rest_auc(labels, predictions.per_row());
  if (!per_class) return per_class.error();
  return std::accumulate(per_class->begin(), per_class->end(), 0.0) /
         static_cast<double>(predictions.num_classes);
}

// plan.rounds FedAvg rounds over the job's partners, scoring the global model
// on the test set after each.
Result<Trained> run_federated_job(const Job& job, std::size_t job_index, const PreparedData& data,
                                  const ModelSpec& spec, const ExperimentPlan& plan) {
  auto initial = Model::create(spec, plan.seed);
  if (!initial) return initial.error();
  Model global = std::move(initial).value();
  TrainSettings local = plan.train;
  local.epochs = epochs_per_visit(plan.train.epochs, plan.rounds);
  std::vector<Dataset> copies;
  for (const auto& rows : job.partners) copies.push_back(data.train.subset(rows));
  Trained out;
  for (int round = 0; round < plan.rounds; ++round) {
    std::vector<FedAvgPartner> partners;
    for (std::size_t p = 0; p < copies.size(); ++p)
      partners.push_back(FedAvgPartner{&copies[p], visit_seed(plan.seed, job_index, round, p)});
    auto next = fedavg_round(global, partners, local);
    if (!next) {
      return make_error(job.name + ", round " + std::to_string(round + 1) + ": " +
                        next.error().message);
    }
    global = std::move(next->global);
    out.clipped += next->clipped + next->non_finite;
    auto predictions = global.predict(data.test);
    if (!predictions) return predictions.error();
    auto auc = headline_auc(data.test.y, *predictions);
    if (!auc)
      return make_error(job.name + ", round " + std::to_string(round + 1) + ": " +
                        auc.error().message);
    out.auc_per_round.push_back(*auc);
    out.predictions = std::move(predictions).value();
  }
  out.hash = model_hash(global);
  return out;
}

Result<Trained> run_job(const Job& job, std::size_t job_index, const PreparedData& data,
                        const ModelSpec& spec, const ExperimentPlan& plan) {
  if (job.federated) return run_federated_job(job, job_index, data, spec, plan);
  auto model = Model::create(spec, plan.seed);
  if (!model) return model.error();
  TrainSettings settings = plan.train;
  const int cycles = job.centralized ? 1 : plan.cycles;
  settings.epochs =
      job.centralized ? plan.train.epochs : epochs_per_visit(plan.train.epochs, plan.cycles);
  Trained out;
  std::vector<Dataset> copies;  // each partner's training copy
  for (std::size_t p = 0; p < job.partners.size(); ++p) {
    copies.push_back(data.train.subset(job.partners[p]));
    if (plan.privacy.kind == ExperimentPrivacyKind::local) {
      LocalDpSettings ldp{plan.privacy.beta, plan.privacy.sensitivity,
                          local_dp_seed(plan.seed, job_index, p)};
      if (auto st = apply_local_dp(copies.back(), ldp); !st) return st.error();
    } else if (plan.privacy.kind == ExperimentPrivacyKind::dp_sgd) {
      auto t = dp_sgd_trainer(plan, copies.back().rows, settings.epochs, cycles);
      if (!t)
        return make_error(job.name + ", partner " + std::to_string(p + 1) + ": " +
                          t.error().message);
      out.privacy.push_back(*t);
    }
  }
  for (int cycle = 0; cycle < cycles; ++cycle) {
    for (std::size_t p = 0; p < job.partners.size(); ++p) {
      const auto& local = copies[p];
      settings.seed = visit_seed(plan.seed, job_index, cycle, p);
      if (plan.privacy.kind == ExperimentPrivacyKind::dp_sgd) {
        settings.dp_sgd = DpSgdSettings{plan.privacy.clip, out.privacy[p].noise_multiplier,
                                        out.privacy[p].sampling_rate_nano};
      }
      auto report = train(*model, local, settings);
      if (!report) {
        return make_error(job.name + ", partner " + std::to_string(p + 1) + ": " +
                          report.error().message);
      }
    }
  }
  auto predictions = model->predict(data.test);
  if (!predictions) return predictions.error();
  out.predictions = std::move(predictions).value();
  out.hash = model_hash(*model);
  return out;
}

Status score_row(ExperimentRow& row, const std::vector<int>& labels, int classes,
                 const ExperimentRow* central) {
  if (classes == 2) {
    const auto scores = row.predictions.scores();
    auto ci = delong_auc(labels, scores);
    if (!ci) return ci.error();
    row.auc = ci->auc;
    row.ci = std::make_pair(ci->ci_low, ci->ci_high);
    auto brier = brier_score(labels, scores);
    if (!brier) return brier.error();
    row.brier = *brier;
    if (central) {
      auto test = delong_paired_test(labels, scores, central->predictions.scores());
      if (!test) return test.error();
      row.p_vs_centralized = test->p_two_sided;
    }
    return {};
  }
  auto per_class = one_vs_rest_auc(labels, row.predictions.per_row());
  if (!per_class) return per_class.error();
  row.auc_per_class = *per_class;
  row.auc =
      std::accumulate(per_class->begin(), per_class->end(), 0.0) / static_cast<double>(classes);
  for (int k = 0; k < classes; ++k) {
    std::vector<int> labels01(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) labels01[i] = labels[i] == k ? 1 : 0;
    const auto scores = row.predictions.scores(k);
    auto ci = delong_auc(labels01, scores);
    if (!ci) return ci.error();
    row.ci_per_class.emplace_back(ci->ci_low, ci->ci_high);
    if (central) {
      auto test = delong_paired_test(labels01, scores, central->predictions.scores(k));
      if (!test) return test.error();
      row.p_per_class_vs_centralized.push_back(test->p_two_sided);
    }
  }
  return {};
}

}  // namespace

std::string_view modes_name(ExperimentModes m) {
  switch (m) {
    case ExperimentModes::chained:
      return "chained";
    case ExperimentModes::federated:
      return "federated";
    case ExperimentModes::both:
      return "both";
  }
  std::abort();
}

Result<ExperimentModes> parse_modes(std::string_view name) {
  if (name == "chained") return ExperimentModes::chained;
  if (name == "federated") return ExperimentModes::federated;
  if (name == "both") return ExperimentModes::both;
  return make_error("The mode \"" + std::string(name) +
                    "\" is unknown; use chained, federated or both.");
}

int epochs_per_visit(int epochs, int cycles) {
  if (cycles < 1) cycles = 1;
  return std::max(1, static_cast<int>(std::lround(static_cast<double>(epochs) / cycles)));
}

ExperimentPlan default_plan(std::string_view name) {
  ExperimentPlan plan;
  plan.train.optimizer = Optimizer::adam;
  plan.train.batch_size = 32;
  if (name == "lung1") {
    // 336 training rows, 15 encoded features, weak signal: a small network
    // with weight decay, few epochs (it overfits quickly).
    plan.hidden = {16};
    plan.train.epochs = 30;
    plan.train.learning_rate = 1e-3;
    plan.train.weight_decay = 1e-3;
    plan.train.batch_size = 16;
  } else if (name == "breast_cancer") {
    // The benchmark's network (30→64→32→1) and optimizer.
    plan.hidden = {64, 32};
    plan.train.epochs = 50;
    plan.train.learning_rate = 1e-3;
  } else if (name == "iris") {
    // 120 training rows, 4 features, 3 classes; scenario 6's smallest partner
    // holds 8 rows, so batches are small.
    plan.hidden = {16};
    plan.train.epochs = 100;
    plan.train.learning_rate = 1e-2;
    plan.train.batch_size = 8;
  } else if (name == "breastmnist") {
    // The 2D CNN on 546 training images.
    plan.train.epochs = 20;
    plan.train.learning_rate = 1e-3;
  } else {
    plan.hidden = {32};
    plan.train.epochs = 50;
    plan.train.learning_rate = 1e-3;
  }
  return plan;
}

Result<ExperimentReport> run_experiment(const PreparedData& data, const ExperimentPlan& plan,
                                        const ExperimentProgress& progress) {
  if (data.train.rows == 0 || data.test.rows == 0) {
    return make_error("The data set \"" + data.name + "\" has no training or no test rows.");
  }
  if (plan.cycles < 1 || plan.cycles > 1000)
    return make_error("cycles must be between 1 and 1000.");
  if (plan.workers < 1 || plan.workers > 64) return make_error("workers must be between 1 and 64.");
  const bool chained = plan.modes != ExperimentModes::federated;
  const bool federated = plan.modes != ExperimentModes::chained;
  if (federated && (plan.rounds < 1 || plan.rounds > 1000))
    return make_error("rounds must be between 1 and 1000.");
  if (federated && plan.privacy.kind != ExperimentPrivacyKind::none) {
    return make_error(
        "Federated rows with differential privacy are not supported yet (a federated plan with DP "
        "is invalid in this version); run them without privacy, or use the chained mode.");
  }
  if (auto st = validate(plan.train); !st) return st.error();
  const int classes = data.train.num_classes;
  const auto counts = data.test.class_counts();
  for (int k = 0; k < classes; ++k) {
    if (counts[static_cast<std::size_t>(k)] < 2) {
      return make_error(
          "The test set has fewer than two rows of class \"" +
          data.test.class_names[static_cast<std::size_t>(k)] +
          "\", so its AUC and confidence interval are undefined; use a larger data set.");
    }
  }

  ExperimentReport report;
  report.dataset = data.name;
  report.plan = plan;
  report.train_rows = data.train.rows;
  report.test_rows = data.test.rows;
  report.test_labels = data.test.y;
  report.class_names = data.train.class_names;
  const auto& shape = data.train.image_shape;
  report.spec = shape.size() == 3
                    ? ModelSpec::cnn2d(shape, classes)
                    : ModelSpec::mlp(static_cast<int>(data.train.features), plan.hidden, classes);
  if (auto st = validate(report.spec); !st) return st.error();
  {
    auto initial = Model::create(report.spec, plan.seed);
    if (!initial) return initial.error();
    const auto blob = serialize(*initial);
    auto layout = secagg::blob_layout(blob);
    if (!layout) return layout.error();
    report.model_floats = layout->float_count;
    report.model_blob_bytes = blob.size();
  }

  std::vector<Job> jobs;
  std::vector<std::size_t> all(data.train.rows);
  std::iota(all.begin(), all.end(), std::size_t{0});
  jobs.push_back(Job{"centralized", "all training rows in one place", {all}, true, 0});
  const auto scenarios = paper_scenarios(data.train.y, classes, plan.seed);
  std::vector<Job> federated_jobs;
  for (std::size_t k = 0; k < scenarios.size(); ++k) {
    const auto& s = scenarios[k];
    if (!plan.scenarios.empty() &&
        std::find(plan.scenarios.begin(), plan.scenarios.end(), s.name) == plan.scenarios.end())
      continue;
    if (chained) jobs.push_back(Job{s.name, s.description, s.partners, false, k + 1});
    if (federated) {
      federated_jobs.push_back(Job{"federated" + std::to_string(k + 1), s.description + ", FedAvg",
                                   s.partners, false, scenarios.size() + k + 1, true});
    }
  }
  for (auto& j : federated_jobs) jobs.push_back(std::move(j));

  init_torch(plan.train.threads);
  std::vector<std::promise<Result<Trained>>> promises(jobs.size());
  std::vector<std::future<Result<Trained>>> futures;
  for (auto& p : promises) futures.push_back(p.get_future());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      promises[i].set_value(run_job(jobs[i], jobs[i].seed_index, data, report.spec, plan));
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < std::min<int>(plan.workers, static_cast<int>(jobs.size())); ++w)
    threads.emplace_back(worker);

  std::optional<Error> failure;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    auto trained = futures[i].get();
    if (failure) continue;  // keep draining so every worker finishes
    if (!trained) {
      failure = trained.error();
      continue;
    }
    const auto& job = jobs[i];
    ExperimentRow row;
    row.name = job.name;
    row.mode = job.centralized ? "centralized" : job.federated ? "federated" : "chained";
    row.description = job.description;
    for (const auto& p : job.partners) row.partner_sizes.push_back(p.size());
    row.predictions = std::move(trained->predictions);
    row.model_hash = trained->hash;
    row.privacy = std::move(trained->privacy);
    const ExperimentRow* central = report.rows.empty() ? nullptr : &report.rows.front();
    if (auto st = score_row(row, report.test_labels, classes, central); !st) {
      failure = make_error(row.name + ": " + st.error().message);
      continue;
    }
    if (job.federated) {
      row.rounds = plan.rounds;
      row.local_epochs = epochs_per_visit(plan.train.epochs, plan.rounds);
      row.auc_per_round = std::move(trained->auc_per_round);
      row.clipped = trained->clipped;
      for (std::size_t r = 0; r < row.auc_per_round.size(); ++r) {
        if (row.auc_per_round[r] >= central->auc) {
          row.rounds_to_centralized = static_cast<int>(r + 1);
          break;
        }
      }
      row.traffic = federated_traffic(job.partners.size(), report.model_floats,
                                      report.model_blob_bytes, plan.rounds);
    } else if (!job.centralized) {
      row.traffic = chained_traffic(job.partners.size(), report.model_blob_bytes, plan.cycles);
    }
    if (progress) progress(row);
    report.rows.push_back(std::move(row));
  }
  for (auto& t : threads) t.join();
  if (failure) return *failure;
  return report;
}

}  // namespace baton::learning
