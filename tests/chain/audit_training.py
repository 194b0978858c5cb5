"""The training protocol and the accounts of docs/PROTOCOL.md sections 18 and 19, replayed by an auditor.

Used by audit_export.py: without Baton's code it re-applies every protocol
transaction (StartRun, LoadRequest, LoadApproval, SaveRequest, ModelVote,
TurnAbandon; Transfer, FundRun, ReleaseEscrow, KeyGrant), the genesis
allocations and the genesis plan's run, the deposits and submission costs
of section 19.9, and the deadlines (turns, gains, funding, release) to its
own copy of the training state, and encodes that state as sections 18.4,
19.4, 19.7 and 19.9 lay out (a federated run's rounds, section 21:
audit_rounds.py), so that the auditor can
recompute each block's app_state_hash (section 10: the v2 hash once a run or a
refusal exists, v3 while an account holds credits). The plan's forms and
bounds: audit_plan.py; the rules and encodings it applies: audit_rules.py.

Every string is kept as the bytes the transactions carry; maps are dicts
encoded in ascending byte order of their keys (std::map's order).
"""
import audit_control
import audit_privacy
import audit_rounds
import audit_schema
from audit_plan import PPM, encode_plan, plan_from_genesis, plan_from_proto, plan_is_valid
from audit_rules import *  # noqa: F401,F403 (audit_export.py reads the numbers through this module)


class Refused(Exception):
    """A protocol transaction the training state refuses; args[0] is the reason number."""


# ---- the state machine -----------------------------------------------------

class Consortium:
    """What the protocol needs of the genesis: names, powers, roles, allocations."""

    def __init__(self, genesis):
        self.by_key = {bytes.fromhex(m["ed25519_public"]): m["name"].encode() for m in genesis["members"]}
        self.power = {m["name"].encode(): m["power"] for m in genesis["members"]}
        self.roles = {m["name"].encode(): set(m.get("roles", [])) for m in genesis["members"]}
        self.total_power = sum(self.power.values())
        # Section 19.1: credited at block 1; they sum to at most 2^64 - 1 (section 4).
        self.allocations = {m["name"].encode(): m.get("balance", 0) for m in genesis["members"]}
        self.chain_id = genesis["chain_id"].encode()  # a federated round's binding (section 21.2)
        if sum(self.allocations.values()) > U64_MAX:
            raise ValueError("the genesis balances add up to more than 2^64-1 credits")


class Training:
    """The training state (chain/training.h) and its transitions (chain/protocol.cpp)."""

    def __init__(self, consortium):
        self.c = consortium
        self.runs = {}  # run id -> run dict
        self.active_run = None
        self.refusals = {"total": 0, "recent": []}
        self.balances = {}  # member name -> credits; only non-zero balances (section 19.4)
        self.rounds = audit_rounds.RoundSteps(self, Refused)
        self.control = audit_control.RunControl(self, Refused)
        self.schemas = audit_schema.Schemas(consortium, Refused)  # section 23

    def empty(self):
        return not self.runs and self.refusals["total"] == 0 and not self.balances and not self.schemas.ids

    def active(self):
        return self.runs[self.active_run] if self.active_run is not None else None

    @staticmethod
    def current_turn(run):
        """The turn in play: none while the run awaits its funding or has ended."""
        return run["turns"][-1] if run["status"] == ACTIVE and run["turns"] else None

    # -- balances (section 19: conserved, never negative)

    def balance(self, name):
        return self.balances.get(name, 0)

    def credit(self, name, amount):
        if amount:
            self.balances[name] = self.balance(name) + amount
            if self.balances[name] > U64_MAX:
                raise AssertionError("credits were created: a balance passed 2^64 - 1")

    def debit(self, name, amount):
        if amount:
            if self.balance(name) < amount:
                raise AssertionError("a debit took more than the balance holds")
            self.balances[name] -= amount
            if not self.balances[name]:
                del self.balances[name]

    # -- turns and runs

    def begin_turn(self, run, index, height):
        n = len(run["plan"]["partners"])
        run["turns"].append({
            "index": index, "cycle": index // n, "partner": turn_partner(run["plan"], index),
            "start_height": height, "phase": AWAITING_LOAD_REQUEST,
            "deadline_height": deadline_after(height, run["plan"]["load_deadline_blocks"]), "outcome": PENDING,
            "end_height": 0, "load_request_id": None, "load_request_height": 0, "load_approvals": {},
            "load_token_id": None, "load_token_height": 0, "save_request_id": None,
            "save_request_height": 0, "save": None, "model_votes": {}, "save_token_id": None,
            "save_token_height": 0, "head_before": run["head"], "abandon": None,
            "stake": {"deposit": 0, "cost": 0, "settled": False, "refunded": 0, "escrowed": 0,
                      "forfeits": {}},
        })

    def begin_from(self, run, index, height):
        """Begins turn `index`, skipping the turns of a suspended partner and of one that cannot pay
        (section 19.9), or finishes the run after its last turn."""
        p = run["plan"]
        if p["mode"] == 1 and index < p["cycles"]:  # section 21.2: one turn per round
            self.begin_turn(run, index, height)
            t = run["turns"][-1]
            t["cycle"], t["partner"], t["phase"] = index, b"", audit_rounds.ROUND_SHARING
            t["round"] = audit_rounds.new_round()
            return
        while p["mode"] == 0 and index < p["cycles"] * len(p["partners"]):
            self.begin_turn(run, index, height)
            t = run["turns"][-1]
            if partner_suspended(run, t["partner"]):
                t["outcome"] = SUSPENDED
            elif audit_privacy.budget_spent(run, t["partner"]):  # section 20.2
                t["outcome"] = BUDGET_SPENT
            elif partner_cannot_pay(run, t["partner"], self.balance(t["partner"])) is not None:
                t["outcome"] = CANNOT_PAY
            else:
                return
            t["phase"], t["end_height"] = DONE, height
            index += 1
        run["status"], run["end_height"] = FINISHED, height
        if self.active_run == p["run_id"]:
            self.active_run = None

    def finish_turn(self, run, outcome, height):
        t = run["turns"][-1]
        self.settle_stake(run, t, outcome)  # reads the phase the turn ended in
        t["phase"], t["outcome"], t["end_height"] = DONE, outcome, height
        self.begin_from(run, t["index"] + 1, height)

    # -- deposits (section 19.9)

    def lock_stake(self, run, t):
        if not has_stakes(run["plan"]):
            return
        st = t["stake"]
        st["deposit"], st["cost"] = required_deposit(run, t["partner"]), run["plan"]["submission_cost"]
        self.debit(t["partner"], st["deposit"] + st["cost"])

    @staticmethod
    def pay_submission_cost(run, t):
        st = t["stake"]
        if st["cost"]:
            run["escrow"]["funded"] += st["cost"]
            st["escrowed"] = st["cost"]

    def settle_stake(self, run, t, outcome):
        """Where a turn's locked credits go when it ends (section 19.9, "Where the credits go")."""
        st = t["stake"]
        if not has_stakes(run["plan"]) or t["load_request_id"] is None or st["settled"]:
            return
        forfeit, takers = 0, []
        if outcome == REJECTED and t["save"] is not None:
            forfeit = st["deposit"]
            takers = [n for n in sorted(t["model_votes"]) if not t["model_votes"][n]["approve"]]
        elif outcome == EXPIRED and t["phase"] == TRAINING:
            forfeit = st["deposit"] - st["deposit"] // 2
            takers = [n for n in sorted(t["load_approvals"]) if t["load_approvals"][n]["approve"]]
        if forfeit and takers:
            st["forfeits"] = split_credits(forfeit, takers)
            for name, credits in st["forfeits"].items():
                self.credit(name, credits)
        st["refunded"] = stake_locked(st)
        self.credit(t["partner"], st["refunded"])
        st["settled"] = True

    def start_run(self, plan, plan_bytes, started_by, height):
        run = {"plan": plan, "plan_bytes": plan_bytes, "started_by": started_by,
               "start_height": height, "status": ACTIVE, "end_height": 0, "turns": [],
               "head": None, "models": [], "contributivity": {p: 0 for p in plan["partners"]},
               "refusals": {"total": 0, "recent": []}, "escrow": None, "privacy_spent": {},
               "ready_since": 0, "readiness": {}, "stop": None}
        if plan["sponsor"]:  # section 19.6
            run["escrow"] = {"funded": 0, "state": OPEN, "settled_height": 0, "payouts": {},
                             "key_grants": {}}
        if plan["min_escrow"] > 0:  # waits for its funding: no turn yet
            run["status"] = AWAITING_FUNDING
        self.runs[plan["run_id"]] = run
        self.active_run = plan["run_id"]
        if run["status"] == ACTIVE:
            self.control.begin_or_prepare(run, height)  # section 22: readiness first, if planned

    def begin_block(self, genesis, height):
        if height != 1:
            return
        for name, credits in self.c.allocations.items():  # section 19.1
            self.credit(name, credits)
        plan = plan_from_genesis(genesis.get("training_plan", {}))
        if plan is not None:
            self.start_run(plan, encode_plan(plan), b"genesis", 0)

    def end_block(self, height):
        """The current turn of the active run expires at the end of its deadline's block (one per block);
        then every approved turn whose vote deadline has come gets its settled gain (section 18.2);
        then the escrows fall due (section 19.6-19.7)."""
        run = self.active()
        t = self.current_turn(run) if run is not None else None
        if t is not None and t["deadline_height"] <= height:
            if not (t.get("round") is not None and self.rounds.moves_on_at_deadline(run, t, height)):
                self.finish_turn(run, EXPIRED, height)
        self.control.end_block(height)  # section 22.2: the readiness deadline
        for run in self.runs.values():
            for m in run["models"]:
                if m["gain_settled"]:
                    continue
                t = run["turns"][m["turn"]]
                if vote_deadline(run, t) > height:
                    break
                gain = settled_gain_ppm(t["model_votes"], run["plan"]["token_mode"])
                m["median_gain_ppm"], m["gain_settled"] = gain, True
                if m.get("contributors"):  # section 21.2: split, rounded towards zero
                    share = abs(gain) // len(m["contributors"]) * (1 if gain >= 0 else -1)
                    for name in m["contributors"]:
                        run["contributivity"][name] += share
                else:
                    run["contributivity"][m["contributor"]] += m["median_gain_ppm"]
        self.settle_due_escrows(height)

    def settle_due_escrows(self, height):
        """A run still awaiting its funding at its funding deadline ends unfunded and is refunded;
        a finished run whose escrow is open at its release deadline (and whose gains are settled)
        is paid out by tokens without a release."""
        run = self.active()
        if (run is not None and run["status"] == AWAITING_FUNDING
                and deadline_after(run["start_height"], run["plan"]["funding_deadline_blocks"]) <= height):
            run["status"], run["end_height"] = UNFUNDED, height
            self.active_run = None
            self.settle(run, REFUNDED, height)
        for run_id in sorted(self.runs):
            run = self.runs[run_id]
            e = run["escrow"]
            if e is None or e["state"] != OPEN or run["status"] not in (FINISHED, CANCELLED):
                continue
            if (deadline_after(run["end_height"], run["plan"]["release_deadline_blocks"]) <= height
                    and gains_settled(run)):
                self.settle(run, PAID_AT_DEADLINE, height)

    def settle(self, run, state, height):
        """Pays the escrow out by tokens (or refunds it to the sponsor) and closes it."""
        e, sponsor = run["escrow"], run["plan"]["sponsor"]
        if state == REFUNDED:
            e["payouts"] = {sponsor: e["funded"]} if e["funded"] else {}
        else:
            e["payouts"] = escrow_payouts(e["funded"], payout_tokens(run), sponsor)
        for name, credits in e["payouts"].items():
            self.credit(name, credits)
        e["state"], e["settled_height"] = state, height

    # -- transactions

    def tally(self, run, requester, votes):
        eligible = self.c.total_power - self.c.power.get(requester, 0)
        yes = sum(self.c.power.get(n, 0) for n, v in votes.items() if v["approve"])
        no = sum(self.c.power.get(n, 0) for n, v in votes.items() if not v["approve"])
        num, den = run["plan"]["quorum_num"], run["plan"]["quorum_den"]
        if yes * den > eligible * num:
            return APPROVED
        if not (eligible - no) * den > eligible * num:
            return REJECTED
        return PENDING

    def find_active(self, run_id):
        run = self.active()
        if run is None:
            raise Refused(RUN_NOT_ACTIVE)
        if run["plan"]["run_id"] != run_id:
            raise Refused(WRONG_RUN)
        t = self.current_turn(run)
        if t is None:  # awaiting its funding (section 19.3)
            raise Refused(WRONG_PHASE)
        return run, t

    @staticmethod
    def closed_reason(run, request_id, load):
        for t in run["turns"]:
            if t["load_request_id" if load else "save_request_id"] == request_id and t["outcome"] == EXPIRED:
                if t["load_token_id" if load else "save_token_id"] is None:
                    return VOTE_AFTER_DEADLINE
            if not load and t["save_request_id"] == request_id and t["outcome"] == APPROVED:
                return VOTE_AFTER_DEADLINE  # its gain is settled
        return NO_OPEN_REQUEST

    def vote_checks(self, run, t, sender, request_id, load):
        phase, key = (LOAD_VOTING, "load_request_id") if load else (SAVE_VOTING, "save_request_id")
        if t["phase"] != phase or t[key] != request_id:
            raise Refused(self.closed_reason(run, request_id, load))
        self.voter_checks(t, sender, load)

    def voter_checks(self, t, sender, load):
        # Section 21.2: nobody authored a round's aggregate; its aggregator votes too.
        if sender == t["partner"] and t.get("round") is None:
            raise Refused(OWN_REQUEST)
        if self.c.power.get(sender, 0) == 0:
            raise Refused(NOT_A_VOTER)
        if sender in (t["load_approvals"] if load else t["model_votes"]):
            raise Refused(DUPLICATE_VOTE)

    def apply_on(self, sender, ttype, f, tx_hash, height):
        """Applies one protocol transaction, or raises Refused before changing anything."""
        def one(num, default):
            return f.get(num, [default])[-1]
        if ttype in ECONOMY_TYPES:
            self.apply_economy(sender, ttype, one, height)
            return
        if ttype in audit_rounds.ROUND_TYPES:
            self.rounds.apply(self.c.chain_id, sender, ttype, f, height)
            return
        if ttype in audit_control.CONTROL_TYPES:
            self.control.apply(sender, ttype, one, height)
            return
        if ttype == audit_schema.TX_DATA_SUMMARY:
            self.schemas.apply(sender, f, height)
            return
        if ttype in (TX_LOAD_REQUEST, TX_LOAD_APPROVAL, TX_SAVE_REQUEST, TX_TURN_ABANDON):
            run, t = self.find_active(one(1, b""))
            if run["plan"]["mode"] == 1:
                self.apply_federated(run, t, sender, ttype, f, one, tx_hash, height)
                return
        if ttype == TX_START_RUN:
            plan = plan_from_proto(f)
            if "admin" not in self.c.roles.get(sender, ()):
                raise Refused(NOT_ADMIN)
            if self.active_run is not None:
                raise Refused(RUN_ACTIVE)
            if plan["run_id"] in self.runs:
                raise Refused(DUPLICATE_RUN_ID)
            if not plan_is_valid(self.c, plan):
                raise Refused(INVALID_PLAN)
            why = self.schemas.plan_refusal(plan)  # section 23.2
            if why is not None:
                raise Refused(why)
            self.schemas.freeze(plan)
            self.start_run(plan, encode_plan(plan), sender, height)
        elif ttype == TX_LOAD_REQUEST:
            run, t = self.find_active(one(1, b""))
            if sender != t["partner"] or one(2, 0) != t["index"]:
                raise Refused(OUT_OF_TURN)
            if t["phase"] != AWAITING_LOAD_REQUEST:
                raise Refused(WRONG_PHASE)
            head = one(3, b"")
            if len(head) not in (0, 32):
                raise Refused(MALFORMED_REQUEST)
            if (head or None) != run["head"]:
                raise Refused(WRONG_HEAD)
            why = partner_cannot_pay(run, sender, self.balance(sender))
            if why is not None:
                raise Refused(why)
            self.lock_stake(run, t)
            t["load_request_id"], t["load_request_height"] = tx_hash, height
            t["phase"], t["deadline_height"] = LOAD_VOTING, deadline_after(height, run["plan"]["vote_deadline_blocks"])
        elif ttype == TX_LOAD_APPROVAL:
            run, t = self.find_active(one(1, b""))
            request_id = one(2, b"")
            if len(request_id) != 32:
                raise Refused(MALFORMED_REQUEST)
            self.vote_checks(run, t, sender, request_id, load=True)
            t["load_approvals"][sender] = {"approve": bool(one(3, 0)), "reason": one(4, b""), "height": height}
            decided = self.tally(run, t["partner"], t["load_approvals"])
            if decided == APPROVED:
                t["load_token_id"], t["load_token_height"] = t["load_request_id"], height
                t["phase"], t["deadline_height"] = TRAINING, deadline_after(height, run["plan"]["save_deadline_blocks"])
            elif decided == REJECTED:
                self.finish_turn(run, REJECTED, height)
        elif ttype == TX_SAVE_REQUEST:
            run, t = self.find_active(one(1, b""))
            if sender != t["partner"] or one(2, 0) != t["index"]:
                raise Refused(OUT_OF_TURN)
            if t["phase"] != TRAINING:
                raise Refused(WRONG_PHASE)
            save = self.save_record(f)
            if save["parent"] != run["head"]:
                raise Refused(WRONG_HEAD)
            why = audit_privacy.check_spend(run, sender, save["privacy"])  # section 20.2: 41, 40
            if why is not None:
                raise Refused(why)
            if any(e["save"] is not None and e["save"]["model_sha256"] == save["model_sha256"]
                   for e in run["turns"]):
                raise Refused(DUPLICATE_MODEL)
            t["save"], t["save_request_id"], t["save_request_height"] = save, tx_hash, height
            if audit_privacy.enabled(run["plan"]):  # spent whatever the vote
                run["privacy_spent"][sender] = save["privacy"]
            self.pay_submission_cost(run, t)
            t["phase"], t["deadline_height"] = SAVE_VOTING, deadline_after(height, run["plan"]["vote_deadline_blocks"])
        elif ttype == TX_MODEL_VOTE:
            request_id = one(2, b"")
            aucs = (one(4, 0), one(5, 0), one(7, 0))
            losses = (one(9, 0), one(10, 0))
            record = {
                "approve": bool(one(3, 0)), "auc_candidate_ppm": aucs[0], "auc_head_ppm": aucs[1],
                "validation_size": one(6, 0), "p_worse_ppm": aucs[2], "reason": one(8, b""), "height": height,
                "loss_candidate_micro": losses[0], "loss_head_micro": losses[1]}
            well_formed = max(aucs) <= PPM and max(losses) <= MAX_LOSS_MICRO
            named = self.runs.get(one(1, b""))
            settling = [m for m in named["models"] if not m["gain_settled"] and m["id"] == request_id] \
                if named is not None and len(request_id) == 32 else []
            if settling:  # a late vote: approved, gain not settled yet (section 18.2, "Gains")
                if not well_formed:
                    raise Refused(MALFORMED_REQUEST)
                t = named["turns"][settling[0]["turn"]]
                self.voter_checks(t, sender, load=False)
                if not vote_follows_policy(named["plan"], bool(one(3, 0)), aucs, one(6, 0)):
                    raise Refused(VOTE_CONTRADICTS_POLICY)
                t["model_votes"][sender] = record
                return
            run, t = self.find_active(one(1, b""))
            if len(request_id) != 32 or not well_formed:
                raise Refused(MALFORMED_REQUEST)
            self.vote_checks(run, t, sender, request_id, load=False)
            if not vote_follows_policy(run["plan"], bool(one(3, 0)), aucs, one(6, 0)):
                raise Refused(VOTE_CONTRADICTS_POLICY)
            t["model_votes"][sender] = record
            federated = t.get("round") is not None
            decided = self.tally(run, b"" if federated else t["partner"], t["model_votes"])
            if decided == APPROVED:
                t["save_token_id"], t["save_token_height"] = t["save_request_id"], height
                run["models"].append({
                    "id": t["save_request_id"], "parent": run["head"], "contributor": t["partner"],
                    "turn": t["index"], "height": height, "load_token_id": t["load_token_id"],
                    "object_key": t["save"]["object_key"], "ciphertext_sha256": t["save"]["ciphertext_sha256"],
                    "model_sha256": t["save"]["model_sha256"], "median_gain_ppm": 0, "gain_settled": False,
                    "contributors": sorted(t["round"]["uploads"]) if federated else []})
                if federated:  # a round has no load token
                    run["models"][-1]["load_token_id"] = bytes(32)
                run["head"] = t["save_request_id"]
                self.finish_turn(run, APPROVED, height)
            elif decided == REJECTED:
                self.finish_turn(run, REJECTED, height)
        elif ttype == TX_TURN_ABANDON:
            run, t = self.find_active(one(1, b""))
            if sender != t["partner"] or one(2, 0) != t["index"]:
                raise Refused(OUT_OF_TURN)
            if t["phase"] not in (AWAITING_LOAD_REQUEST, LOAD_VOTING, TRAINING):
                raise Refused(WRONG_PHASE)
            head, reason, detail = one(3, b""), one(4, 0), one(5, b"")
            if (len(head) not in (0, 32) or not 1 <= reason <= MAX_LOAD_FAILURE
                    or len(detail) > MAX_ABANDON_DETAIL_BYTES):
                raise Refused(MALFORMED_REQUEST)
            if (head or None) != run["head"]:
                raise Refused(WRONG_HEAD)
            t["abandon"] = (reason, detail)
            self.finish_turn(run, ABANDONED, height)

    def apply_federated(self, run, t, sender, ttype, f, one, tx_hash, height):
        """Section 21.2: the chained transactions in a federated run."""
        if ttype in (TX_LOAD_REQUEST, TX_LOAD_APPROVAL):
            raise Refused(audit_rounds.NOT_FEDERATED)
        if ttype == TX_SAVE_REQUEST:
            if one(2, 0) != t["index"]:
                raise Refused(audit_rounds.WRONG_ROUND)
            if sender not in run["plan"]["partners"]:
                raise Refused(OUT_OF_TURN)
            if t["phase"] != audit_rounds.ROUND_AGGREGATING:
                raise Refused(WRONG_PHASE)
            save = self.save_record(f)
            if save["parent"] != t["head_before"]:
                raise Refused(WRONG_HEAD)
            if save["train_samples"] != audit_rounds.total_weight(t["round"]):
                raise Refused(MALFORMED_REQUEST)
            why = audit_privacy.check_spend(run, sender, save["privacy"])
            if why is not None:
                raise Refused(why)
            if any(e["save"] is not None and e["save"]["model_sha256"] == save["model_sha256"]
                   for e in run["turns"]):
                raise Refused(DUPLICATE_MODEL)
            t["partner"], t["save"], t["save_request_id"], t["save_request_height"] = (
                sender, save, tx_hash, height)
            t["phase"], t["deadline_height"] = SAVE_VOTING, deadline_after(height, run["plan"]["vote_deadline_blocks"])
            return
        # TX_TURN_ABANDON: a complaint, it ends nothing.
        if sender not in run["plan"]["partners"]:
            raise Refused(OUT_OF_TURN)
        if one(2, 0) != t["index"]:
            raise Refused(audit_rounds.WRONG_ROUND)
        head, reason, detail = one(3, b""), one(4, 0), one(5, b"")
        if (len(head) not in (0, 32) or not 1 <= reason <= MAX_LOAD_FAILURE + 1
                or len(detail) > MAX_ABANDON_DETAIL_BYTES):
            raise Refused(MALFORMED_REQUEST)
        if (head or None) != t["head_before"]:
            raise Refused(WRONG_HEAD)
        t["round"]["complaints"][sender] = (reason, detail)

    def apply_economy(self, sender, ttype, one, height):
        """Section 19: Transfer, FundRun, ReleaseEscrow, KeyGrant, each checked in the documented order."""
        if ttype == TX_TRANSFER:
            to, amount = one(1, b""), one(2, 0)
            if amount == 0:
                raise Refused(ZERO_AMOUNT)
            if to not in self.c.power:
                raise Refused(UNKNOWN_RECIPIENT)
            if self.balance(sender) < amount:
                raise Refused(INSUFFICIENT_BALANCE)
            self.debit(sender, amount)
            self.credit(to, amount)
        elif ttype == TX_FUND_RUN:
            amount = one(2, 0)
            if amount == 0:
                raise Refused(ZERO_AMOUNT)
            run = self.runs.get(one(1, b""))
            if run is None:
                raise Refused(WRONG_RUN)
            if run["escrow"] is None or sender != run["plan"]["sponsor"]:
                raise Refused(NOT_SPONSOR)
            if run["status"] in audit_control.ENDED or run["escrow"]["state"] != OPEN:
                raise Refused(RUN_FINISHED)
            if self.balance(sender) < amount:
                raise Refused(INSUFFICIENT_BALANCE)
            self.debit(sender, amount)
            run["escrow"]["funded"] += amount
            if run["status"] == AWAITING_FUNDING and run["escrow"]["funded"] >= run["plan"]["min_escrow"]:
                self.control.begin_or_prepare(run, height)  # turn 0 (or readiness) in this block
        elif ttype == TX_RELEASE_ESCROW:
            run = self.runs.get(one(1, b""))
            if run is None:
                raise Refused(WRONG_RUN)
            if run["escrow"] is None or sender != run["plan"]["sponsor"]:
                raise Refused(NOT_SPONSOR)
            if run["escrow"]["state"] != OPEN:
                raise Refused(ALREADY_RELEASED)
            if run["status"] not in (FINISHED, CANCELLED):  # section 22.3
                raise Refused(RUN_NOT_FINISHED)
            if not gains_settled(run):
                raise Refused(GAINS_NOT_SETTLED)
            self.settle(run, RELEASED, height)
        elif ttype == TX_KEY_GRANT:
            model, recipient, sealed, commitment = one(2, b""), one(3, b""), one(4, b""), one(5, b"")
            if len(model) != 32 or len(commitment) != 32 or len(sealed) != WRAPPED_KEY_BYTES:
                raise Refused(MALFORMED_REQUEST)
            run = self.runs.get(one(1, b""))
            if run is None:
                raise Refused(WRONG_RUN)
            if run["escrow"] is None or run["escrow"]["state"] != RELEASED:
                raise Refused(NOT_RELEASED)
            if recipient != run["plan"]["sponsor"]:
                raise Refused(GRANT_TO_NON_SPONSOR)
            save = next((t["save"] for t in run["turns"] if t["save_request_id"] == model and t["save"]),
                        None) if model == run["head"] else None
            if save is None or sender not in save["wrapped_keys"]:
                raise Refused(NOT_KEY_HOLDER)
            if commitment != save["key_commitment"]:
                raise Refused(KEY_COMMITMENT_MISMATCH)
            run["escrow"]["key_grants"][sender] = sealed

    def save_record(self, f):
        def one(num, default):
            return f.get(num, [default])[-1]
        parent, ct, model, commitment = one(3, b""), one(5, b""), one(6, b""), one(11, b"")
        recipients, wrapped = f.get(7, []), f.get(8, [])
        if (len(parent) not in (0, 32) or len(ct) != 32 or len(model) != 32 or len(commitment) != 32
                or not one(4, b"") or len(recipients) != len(wrapped)):
            raise Refused(MALFORMED_REQUEST)
        for i, name in enumerate(recipients):
            if (i > 0 and not recipients[i - 1] < name) or name not in self.c.power:
                raise Refused(MALFORMED_REQUEST)
            if "sponsor" in self.c.roles.get(name, ()):  # its key only by a grant (section 19.8)
                raise Refused(MALFORMED_REQUEST)
            if len(wrapped[i]) != WRAPPED_KEY_BYTES:
                raise Refused(MALFORMED_REQUEST)
        # Fields 15..22, the reproducibility record (section 18.1): strings of at
        # most 64 printable ASCII bytes, hashes empty or 32 bytes, threads <= 1024.
        texts = [one(n, b"") for n in (17, 18, 19, 20)]
        hashes = [one(n, b"") for n in (21, 22)]
        if (one(16, 0) > 1024 or any(len(t) > 64 or any(c < 0x20 or c > 0x7e for c in t) for t in texts)
                or any(len(h) not in (0, 32) for h in hashes)):
            raise Refused(MALFORMED_REQUEST)
        repro = (one(15, 0), one(16, 0), *texts, *(h or None for h in hashes))
        if repro == (0, 0, b"", b"", b"", b"", None, None):
            repro = None
        return {"repro": repro, "parent": parent or None, "object_key": one(4, b""), "ciphertext_sha256": ct,
                "model_sha256": model, "key_commitment": commitment,
                "wrapped_keys": dict(zip(recipients, wrapped)), "train_samples": one(9, 0),
                "metrics_json": one(10, b""), "privacy": (one(12, 0), one(13, 0), one(14, 0))}

    def turn_of_request(self, run_id, request_id, load):
        run = self.runs.get(run_id)
        if run is None or len(request_id) != 32:
            return None
        for t in run["turns"]:
            if t["load_request_id" if load else "save_request_id"] == request_id:
                return t["index"]
        return None

    def apply(self, sender_key, ttype, payload_fields, tx_hash, height):
        """One protocol transaction whose nonce was accepted: its effect or its refusal."""
        sender = self.c.by_key[sender_key]
        try:
            self.apply_on(sender, ttype, payload_fields, tx_hash, height)
            return None
        except Refused as r:
            reason = r.args[0]
        f = payload_fields
        # A Transfer names no run; a DataSummary's field 1 is a schema id.
        run_id = b"" if ttype in (TX_TRANSFER, audit_schema.TX_DATA_SUMMARY) else f.get(1, [b""])[-1]
        if ttype in (TX_LOAD_REQUEST, TX_SAVE_REQUEST, TX_TURN_ABANDON) + audit_rounds.ROUND_TYPES:
            turn = f.get(2, [0])[-1]
        elif ttype in (TX_LOAD_APPROVAL, TX_MODEL_VOTE):
            turn = self.turn_of_request(run_id, f.get(2, [b""])[-1], ttype == TX_LOAD_APPROVAL)
        else:
            turn = None
        refusal = (height, tx_hash, sender, ttype, reason, run_id, turn)
        log = self.refusals if ttype == TX_START_RUN or run_id not in self.runs else self.runs[run_id]["refusals"]
        log["total"] += 1
        log["recent"] = (log["recent"] + [refusal])[-MAX_REFUSALS_KEPT:]
        return reason

    # -- encoding (section 18.4)

    def encoding(self):
        out = u32(len(self.runs))
        for run_id in sorted(self.runs):
            run = self.runs[run_id]
            out += s(run_id) + s(run["plan_bytes"]) + s(run["started_by"])
            out += u64(run["start_height"]) + u8(run["status"]) + u64(run["end_height"]) + opt(run["head"])
            out += u32(len(run["contributivity"]))
            for name in sorted(run["contributivity"]):
                out += s(name) + i64(run["contributivity"][name])
            out += u32(len(run["turns"]))
            for t in run["turns"]:
                out += turn_encoding(t)
                if has_stakes(run["plan"]):  # section 19.9, "Stake bytes"
                    out += stake_encoding(t["stake"])
                if audit_privacy.enabled(run["plan"]) and t["save"] is not None:  # section 20.2
                    out += b"".join(u64(v) for v in t["save"]["privacy"])
                if run["plan"]["mode"] == 1:  # section 21.3
                    out += audit_rounds.round_encoding(t["round"], u8, u32, u64, s, opt)
            out += u32(len(run["models"]))
            for m in run["models"]:
                out += m["id"] + opt(m["parent"]) + s(m["contributor"]) + u64(m["turn"]) + u64(m["height"])
                out += m["load_token_id"] + s(m["object_key"]) + m["ciphertext_sha256"] + m["model_sha256"]
                out += i64(m["median_gain_ppm"]) + u8(m["gain_settled"])
                if run["plan"]["mode"] == 1:  # section 21.3: the model's contributors
                    out += u32(len(m["contributors"])) + b"".join(s(n) for n in m["contributors"])
            out += refusals_encoding(run["refusals"])
            if run["plan"]["sponsor"]:  # section 19.7: only a sponsored run has these bytes
                e = run["escrow"]
                out += u64(e["funded"]) + u8(e["state"]) + u64(e["settled_height"])
                out += u32(len(e["payouts"]))
                for name in sorted(e["payouts"]):
                    out += s(name) + u64(e["payouts"][name])
                out += u32(len(e["key_grants"]))
                for name in sorted(e["key_grants"]):
                    out += s(name) + s(e["key_grants"][name])
            if audit_privacy.enabled(run["plan"]):  # section 20.2: each partner's last spend
                out += u32(len(run["privacy_spent"]))
                for name in sorted(run["privacy_spent"]):
                    out += s(name) + b"".join(u64(v) for v in run["privacy_spent"][name])
            out += audit_control.RunControl.encoding(run, u8, u32, u64, s, opt)  # section 22.4
        out += u8(0) if self.active_run is None else u8(1) + s(self.active_run)
        out += refusals_encoding(self.refusals)
        if self.balances or self.schemas.ids:  # section 19.4, hashed under baton/state/v3
            out += u32(len(self.balances))
            for name in sorted(self.balances):
                out += s(name) + u64(self.balances[name])
        if self.schemas.ids:  # section 23.2: after the accounts, then always written
            out += self.schemas.encoding(u8, u32, u64, s)
        return out

    def domain(self):
        """The state hash's domain: v3 while an account holds credits, v2 while a run or a refusal
        exists, else v1 (sections 10, 18.4, 19.4)."""
        if self.balances:
            return "baton/state/v3"
        return "baton/state/v1" if self.empty() else "baton/state/v2"

    def summary(self):
        """One line per run: its status, each turn's decision, its head and refusals (and its escrow:
        funded, state, payouts, key granters); then one line of balances."""
        lines = []
        for run_id in sorted(self.runs):
            run = self.runs[run_id]
            line = "run %s: %s, turns %s, head %s, refusals %d" % (
                run_id.decode(errors="replace"), STATUS_NAMES[run["status"]],
                ",".join(OUTCOME_NAMES[t["outcome"]] for t in run["turns"]),
                run["head"].hex() if run["head"] else "none", run["refusals"]["total"])
            e = run["escrow"]
            if e is not None:
                line += ", escrow %d %s, paid %s, granted by %s" % (
                    e["funded"], ESCROW_NAMES[e["state"]], named_amounts(e["payouts"]),
                    ",".join(n.decode(errors="replace") for n in sorted(e["key_grants"])) or "none")
            lines.append(line)
        lines.append("balances: " + named_amounts(self.balances))
        return lines
