import type { SeedSizes } from './seed.js';

/**
 * Policies, priced as the premium engine would (same rate tables as the
 * seeded products, modal factors, GST before 22 Sep 2025), in a realistic
 * spread of statuses, each with the status history that led there.
 */
const STATUS_BY_BUCKET = `CASE WHEN h < 10 THEN 'draft' WHEN h < 15 THEN 'submitted' WHEN h < 18 THEN 'approved' WHEN h < 20 THEN 'rejected'
  WHEN h < 80 THEN 'active' WHEN h < 88 THEN 'lapsed' WHEN h < 92 THEN 'surrendered' WHEN h < 93 THEN 'matured' WHEN h < 97 THEN 'cancelled'
  ELSE 'terminated' END`;

const ISSUED = `status IN ('active','lapsed','surrendered','matured','terminated')`;

/** The Luhn check digit of the 8-digit text `d`, inline (policy-number.ts: from the right, the first digit is doubled). */
function luhnSql(d: string): string {
  const digit = (p: number) => `substr(${d}, ${p}, 1)::int`;
  const terms = [1, 2, 3, 4, 5, 6, 7, 8].map((p) => ((8 - p) % 2 === 0 ? `((2 * ${digit(p)}) / 10 + (2 * ${digit(p)}) % 10)` : digit(p)));
  return `((10 - (${terms.join(' + ')}) % 10) % 10)`;
}

export function policyStatement(sizes: SeedSizes, t0: string): string {
  const { agents: a, customers: c, policies: p } = sizes;
  const now = `'${t0}'::timestamptz`;
  return `WITH base AS (
      SELECT i, ((i - 1) % ${c}) + 1 AS c, (((((i - 1) % ${c}) + 1) - 1) % ${a}) + 1 AS a, pg_temp.pts(i) AS pts, abs(hashint4(i::int)) % 100 AS h
      FROM generate_series(1, ${p}) i
    ), chosen AS (
      SELECT base.*, CASE WHEN i % 3 = 0 AND a % 3 <> 0 THEN 3 + a % 2 ELSE 1 + a % 2 END AS prov FROM base
    ), typed AS (
      SELECT chosen.*,
        CASE WHEN prov >= 3 THEN (prov - 1) * 2 + 1 + i % 2 ELSE (prov - 1) * 2 + 1 + (i / 3) % 2 END AS prod,
        CASE WHEN prov >= 3 THEN 'health' WHEN (i / 3) % 2 = 0 THEN 'term' ELSE 'endowment' END AS kind,
        ${STATUS_BY_BUCKET} AS status,
        date '1972-01-01' + ((c * 7919) % 11300)::int AS dob, (pts + interval '5 days')::date AS start
      FROM chosen
    ), terms AS (
      SELECT typed.*,
        CASE kind WHEN 'term' THEN (5 + i % 96) * 10000000::bigint WHEN 'endowment' THEN (2 + i % 19) * 10000000::bigint
          ELSE (5 + (i % 10) * 5) * 10000000::bigint END AS sa,
        CASE kind WHEN 'term' THEN 10 + i % 11 WHEN 'endowment' THEN 10 + i % 12 ELSE 1 + i % 3 END::int AS term,
        CASE WHEN kind = 'health' THEN (ARRAY['annual','monthly'])[1 + (i % 2)::int]
          ELSE (ARRAY['annual','half_yearly','quarterly','monthly'])[1 + (i % 4)::int] END AS mode,
        (date_part('year', age(start, dob)) + CASE WHEN date_part('month', age(start, dob)) >= 6 THEN 1 ELSE 0 END)::int AS age
      FROM typed
    ), priced AS (
      SELECT terms.*,
        sa / 100000 * CASE kind
          WHEN 'term' THEN CASE WHEN age <= 30 THEN 1250 WHEN age <= 45 THEN 2400 ELSE 5100 END
          WHEN 'endowment' THEN CASE WHEN age <= 35 THEN 4800 ELSE 5600 END
          ELSE CASE WHEN age <= 35 THEN 1800 WHEN age <= 50 THEN 3200 ELSE 6500 END END AS base_annual,
        CASE mode WHEN 'annual' THEN 1.00 WHEN 'half_yearly' THEN 0.51 WHEN 'quarterly' THEN 0.26 ELSE 0.0875 END AS factor,
        CASE mode WHEN 'annual' THEN 1 WHEN 'half_yearly' THEN 2 WHEN 'quarterly' THEN 4 ELSE 12 END AS per_year,
        CASE WHEN start >= date '2025-09-22' THEN 0 WHEN kind = 'endowment' THEN 450 ELSE 1800 END AS tax_bp,
        CASE status WHEN 'draft' THEN pts WHEN 'submitted' THEN pts + interval '1 day' WHEN 'approved' THEN pts + interval '3 days'
          WHEN 'rejected' THEN pts + interval '3 days' WHEN 'active' THEN pts + interval '5 days' WHEN 'cancelled' THEN pts + interval '2 days'
          ELSE least(${now}, pts + interval '25 days' + (i % 200) * interval '1 day') END AS changed
      FROM terms
    ), amounts AS (
      SELECT priced.*, round(base_annual * factor)::bigint AS installment FROM priced
    ), taxed AS (
      SELECT amounts.*, round(installment * tax_bp / 10000.0)::bigint AS tax, lpad(i::text, 8, '0') AS seq FROM amounts
    )
    INSERT INTO policies (id, policy_number, product_id, provider_id, customer_id, agent_id, created_by, status, sum_assured_paise, term_years,
      premium_mode, age_at_entry, base_annual_paise, modal_factor, installment_paise, tax_rate_bp, tax_paise, total_installment_paise,
      annualized_total_paise, nominee, start_date, maturity_date, issued_at, next_due_date, grace_end_date, status_changed_at, created_at, updated_at, version)
    SELECT pg_temp.v7(pts),
      CASE WHEN ${ISSUED} THEN (ARRAY['BIMALIFE','SURAKSHA','AROGYA','SWASTHYA','RAKSHAGEN'])[prov] || '-' || date_part('year', start)::int || '-'
        || seq || ${luhnSql('seq')} END,
      pd.id, pv.id, cu.id, ag.id, ag.user_id, status, sa, term, mode, age, base_annual, factor,
      installment, tax_bp, tax, installment + tax, (installment + tax) * per_year,
      CASE WHEN i % 2 = 0 THEN jsonb_build_object('name', pg_temp.person(i + 3), 'relationship',
        (ARRAY['spouse','son','daughter','mother','father'])[1 + (i % 5)::int], 'share_percent', 100) END,
      CASE WHEN ${ISSUED} THEN start END,
      CASE WHEN ${ISSUED} THEN (start + term * interval '1 year')::date END,
      CASE WHEN ${ISSUED} THEN pts + interval '5 days' END,
      CASE WHEN status = 'active' THEN ${now}::date + 1 + (i % 28)::int WHEN status = 'lapsed' THEN ${now}::date - 45 - (i % 200)::int END,
      CASE WHEN status = 'active' THEN ${now}::date + 1 + (i % 28)::int + CASE WHEN mode = 'monthly' THEN 15 ELSE 30 END
           WHEN status = 'lapsed' THEN ${now}::date - 45 - (i % 200)::int + CASE WHEN mode = 'monthly' THEN 15 ELSE 30 END END,
      changed, pts, changed,
      CASE status WHEN 'draft' THEN 1 WHEN 'submitted' THEN 2 WHEN 'cancelled' THEN 2 WHEN 'approved' THEN 3 WHEN 'rejected' THEN 3
        WHEN 'active' THEN 4 WHEN 'terminated' THEN 6 ELSE 5 END
    FROM taxed
    JOIN m_product pd ON pd.k = prod JOIN m_provider pv ON pv.k = prov JOIN m_customer cu ON cu.k = c JOIN m_agent ag ON ag.j = a
    ORDER BY i`;
}

/** The path each final status took: (final, step, from, to, offset from creation, reason). */
const PATHS = `(VALUES
  ('draft', 1, NULL, 'draft', 0, NULL),
  ('submitted', 1, NULL, 'draft', 0, NULL), ('submitted', 2, 'draft', 'submitted', 1, NULL),
  ('approved', 1, NULL, 'draft', 0, NULL), ('approved', 2, 'draft', 'submitted', 1, NULL), ('approved', 3, 'submitted', 'approved', 3, NULL),
  ('rejected', 1, NULL, 'draft', 0, NULL), ('rejected', 2, 'draft', 'submitted', 1, NULL), ('rejected', 3, 'submitted', 'rejected', 3, 'Medical report missing'),
  ('cancelled', 1, NULL, 'draft', 0, NULL), ('cancelled', 2, 'draft', 'cancelled', 2, 'Customer changed their mind'),
  ('active', 1, NULL, 'draft', 0, NULL), ('active', 2, 'draft', 'submitted', 1, NULL), ('active', 3, 'submitted', 'approved', 3, NULL), ('active', 4, 'approved', 'active', 5, NULL),
  ('lapsed', 1, NULL, 'draft', 0, NULL), ('lapsed', 2, 'draft', 'submitted', 1, NULL), ('lapsed', 3, 'submitted', 'approved', 3, NULL), ('lapsed', 4, 'approved', 'active', 5, NULL),
  ('lapsed', 5, 'active', 'lapsed', 25, 'Premium unpaid past grace'),
  ('surrendered', 1, NULL, 'draft', 0, NULL), ('surrendered', 2, 'draft', 'submitted', 1, NULL), ('surrendered', 3, 'submitted', 'approved', 3, NULL),
  ('surrendered', 4, 'approved', 'active', 5, NULL), ('surrendered', 5, 'active', 'surrendered', 25, 'Surrendered by the policyholder'),
  ('matured', 1, NULL, 'draft', 0, NULL), ('matured', 2, 'draft', 'submitted', 1, NULL), ('matured', 3, 'submitted', 'approved', 3, NULL),
  ('matured', 4, 'approved', 'active', 5, NULL), ('matured', 5, 'active', 'matured', 25, NULL),
  ('terminated', 1, NULL, 'draft', 0, NULL), ('terminated', 2, 'draft', 'submitted', 1, NULL), ('terminated', 3, 'submitted', 'approved', 3, NULL),
  ('terminated', 4, 'approved', 'active', 5, NULL), ('terminated', 5, 'active', 'lapsed', 20, 'Premium unpaid past grace'),
  ('terminated', 6, 'lapsed', 'terminated', 25, 'Not revived')
) v(final, step, from_status, to_status, offset_days, reason)`;

/** Agents move drafts, the provider's admin approves and issues, the system lapses. */
export function historyStatement(t0: string): string {
  return `INSERT INTO policy_status_history (id, policy_id, from_status, to_status, reason, actor_id, created_at)
    SELECT pg_temp.v7(at), p.id, v.from_status, v.to_status, v.reason,
      CASE WHEN v.to_status IN ('draft','submitted','cancelled') THEN p.created_by
           WHEN v.to_status IN ('approved','rejected','active') THEN pa.id END, at
    FROM policies p
    JOIN ${PATHS} ON v.final = p.status
    LEFT JOIN users pa ON pa.provider_id = p.provider_id AND pa.role = 'provider_admin'
    CROSS JOIN LATERAL (SELECT CASE WHEN v.to_status = p.status AND v.step > 1 THEN p.status_changed_at
      ELSE least('${t0}'::timestamptz - interval '1 minute', p.created_at + v.offset_days * interval '1 day') END AS at) t
    ORDER BY p.created_at, v.step`;
}
