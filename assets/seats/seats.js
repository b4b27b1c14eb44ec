// Seat report page (/seats) of caresoft-bridge: a read-only view, for admins and managers, of the CareSoft
// seats (paid agent accounts): how many exist, how many are matched to an HR employee, which could be
// reclaimed (departed staff, orphan, idle) or are duplicates, and what they cost per month.
// It loads everything with one GraphQL query on POST /graphql (then further pages of long lists), draws a
// small SVG bar chart, filters the tables as you type, and downloads the CSV from /seats/seat-report.csv.
// Authentication: a bearer token from `#token=…` in the address, kept in sessionStorage; on 401 it asks for one.
// Hooks for tests: body[data-state], #error, [data-count][data-value], [data-money], tbody[data-list],
// tr[data-agent-id], svg#seat-chart rect[data-status|data-list][data-value].
'use strict';

(() => {
  const TOKEN_KEY = 'caresoft-bridge-token';
  // The first page of each list comes with the summary, in one query that stays within the server's
  // complexity limit; further pages of one list at a time may be larger.
  const FIRST_PAGE = 100;
  const PAGE_SIZE = 500;
  const ROW_CAP = 5000;
  const NUM = new Intl.NumberFormat('vi-VN');

  const LISTS = [
    { key: 'departedStaffSeats', cost: 'departedStaffMonthlyCost', label: 'Nhân viên đã nghỉ', color: '#ad1457' },
    { key: 'orphanSeats', cost: 'orphanMonthlyCost', label: 'Không có chủ', color: '#d84315' },
    { key: 'duplicateSeats', cost: 'duplicateMonthlyCost', label: 'Giữ nhiều ghế', color: '#6a1b9a' },
    { key: 'idleSeats', cost: 'idleMonthlyCost', label: 'Không hoạt động', color: '#1565c0' },
  ];

  const STATUSES = {
    MATCHED: { label: 'Đã khớp', color: '#2e7d32' },
    UNMATCHED: { label: 'Không có chủ', color: '#c62828' },
    AMBIGUOUS: { label: 'Nhiều ứng viên', color: '#f9a825' },
    CONFLICT: { label: 'Xung đột', color: '#ef6c00' },
    IGNORED: { label: 'Bỏ qua', color: '#78909c' },
  };

  const MONEY_FIELDS = [
    'seatPrice', 'monthlyCost', 'reclaimableMonthlyCost',
    'departedStaffMonthlyCost', 'orphanMonthlyCost', 'duplicateMonthlyCost', 'idleMonthlyCost',
  ];

  // ---------------------------------------------------------------- GraphQL documents

  const LIST_FRAGMENT = `
    fragment SeatList on AgentConnection {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        reason
        node { id username email phoneNo groupName employee { employeeCode fullName } }
      }
    }`;

  const SUMMARY_FIELDS = `
    idleDays currentSeats matchedSeats reclaimableSeats
    byMatchStatus { status count }
    ${MONEY_FIELDS.map((name) => `${name} { formatted }`).join('\n    ')}`;

  const REPORT_QUERY = `
    query SeatReport($d: Int!) {
      seatReport(idleDays: $d) {
        ${SUMMARY_FIELDS}
        ${LISTS.map((list) => `${list.key}(first: ${FIRST_PAGE}) { ...SeatList }`).join('\n        ')}
      }
    }
    ${LIST_FRAGMENT}`;

  const SUMMARY_QUERY = `
    query SeatSummary($d: Int!) {
      seatReport(idleDays: $d) { ${SUMMARY_FIELDS} }
    }`;

  function pageQuery(listKey) {
    return `
      query SeatPage($d: Int!, $a: String) {
        seatReport(idleDays: $d) { ${listKey}(first: ${PAGE_SIZE}, after: $a) { ...SeatList } }
      }
      ${LIST_FRAGMENT}`;
  }

  // ---------------------------------------------------------------- page state

  const state = {
    token: null,
    run: 0, // increases with each load; answers of older loads are dropped
    rows: {}, // list key -> [{ tr, text }] for the search filter
  };

  const $ = (selector) => document.querySelector(selector);

  // ---------------------------------------------------------------- token

  class AuthError extends Error {}

  function storeToken(token) {
    state.token = token;
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (_) { /* storage disabled: keep it in memory */ }
  }

  function forgetToken() {
    state.token = null;
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (_) { /* nothing stored */ }
  }

  // Takes `#token=…` from the address (and removes it from the address bar); true if one was there.
  function takeTokenFromHash() {
    const match = /(?:^|&)token=([^&]*)/.exec(location.hash.slice(1));
    if (!match || !match[1]) return false;
    storeToken(decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname + location.search);
    return true;
  }

  function readToken() {
    if (takeTokenFromHash()) return;
    try { state.token = sessionStorage.getItem(TOKEN_KEY); } catch (_) { state.token = null; }
  }

  function authHeaders() {
    return state.token ? { Authorization: `Bearer ${state.token}` } : {};
  }

  // ---------------------------------------------------------------- fetching

  async function gql(query, variables) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
    if (res.status === 401) throw new AuthError();
    const text = await res.text();
    const body = parseJson(text);
    if (body && Array.isArray(body.errors) && body.errors.length) throw new Error(body.errors[0].message);
    if (!res.ok || !body || !body.data) throw new Error(text.trim() || `Máy chủ trả lời ${res.status}`);
    return body.data;
  }

  function parseJson(text) {
    try { return JSON.parse(text); } catch (_) { return null; }
  }

  function isTooComplex(err) {
    return !(err instanceof AuthError) && /complex|depth/i.test(err.message);
  }

  // The summary and first pages in one query; if the server finds that too costly, one query each.
  async function fetchFirstPages(days) {
    try {
      return (await gql(REPORT_QUERY, { d: days })).seatReport;
    } catch (err) {
      if (!isTooComplex(err)) throw err;
    }
    const report = (await gql(SUMMARY_QUERY, { d: days })).seatReport;
    for (const list of LISTS) report[list.key] = await fetchPage(days, list.key, null);
    return report;
  }

  async function fetchPage(days, listKey, after) {
    return (await gql(pageQuery(listKey), { d: days, a: after })).seatReport[listKey];
  }

  // Loads the further pages of one list, up to ROW_CAP rows.
  async function fetchRest(days, listKey, connection) {
    const edges = connection.edges.slice();
    let pageInfo = connection.pageInfo;
    while (pageInfo.hasNextPage && pageInfo.endCursor && edges.length < ROW_CAP) {
      const page = await fetchPage(days, listKey, pageInfo.endCursor);
      edges.push(...page.edges);
      pageInfo = page.pageInfo;
    }
    connection.edges = edges.slice(0, ROW_CAP);
  }

  async function fetchReport(days) {
    const report = await fetchFirstPages(days);
    await Promise.all(LISTS.map((list) => fetchRest(days, list.key, report[list.key])));
    return report;
  }

  // ---------------------------------------------------------------- loading and errors

  function setState(value) {
    document.body.dataset.state = value;
  }

  function showError(message) {
    const banner = $('#error');
    banner.textContent = message;
    banner.hidden = false;
    setState('error');
  }

  function hideError() {
    $('#error').hidden = true;
    $('#error').textContent = '';
  }

  function handleError(err) {
    if (err instanceof AuthError) {
      askForToken();
    } else if (err instanceof TypeError) {
      showError(`Không kết nối được máy chủ: ${err.message}`);
    } else {
      showError(err.message || String(err));
    }
  }

  function askForToken() {
    const hadToken = Boolean(state.token);
    forgetToken();
    showError(hadToken ? 'Mã đọc không đúng hoặc đã hết hạn.' : 'Cần mã đọc để xem báo cáo.');
    $('#token-form').hidden = false;
    $('#token-input').focus();
  }

  function readIdleDays() {
    const input = $('#idle-days');
    const value = Math.round(Number(input.value));
    const days = Number.isFinite(value) && value > 0 ? Math.min(3650, value) : 30;
    input.value = String(days);
    return days;
  }

  async function load() {
    const run = ++state.run;
    const days = readIdleDays();
    setState('loading');
    hideError();
    try {
      const report = await fetchReport(days);
      if (run !== state.run) return;
      render(report);
      setState('ready');
    } catch (err) {
      if (run === state.run) handleError(err);
    }
  }

  // ---------------------------------------------------------------- rendering: summary

  function setCount(name, value) {
    const el = document.querySelector(`[data-count="${name}"]`);
    el.dataset.value = String(value);
    el.textContent = NUM.format(value);
  }

  function setMoney(name, money) {
    document.querySelector(`[data-money="${name}"]`).textContent = money ? money.formatted : '—';
  }

  function renderSummary(report) {
    ['currentSeats', 'matchedSeats', 'reclaimableSeats'].forEach((name) => setCount(name, report[name]));
    LISTS.forEach((list) => setCount(list.key, report[list.key].totalCount));
    MONEY_FIELDS.forEach((name) => setMoney(name, report[name]));
    $('#price-hint').hidden = Boolean(report.seatPrice);
    $('#idle-days-label').textContent = NUM.format(report.idleDays);
    $('#idle-days').value = String(report.idleDays);
  }

  function stampTime() {
    const time = new Date().toLocaleTimeString('vi-VN', { hour: '2-digit', minute: '2-digit' });
    $('#updated').textContent = `Cập nhật lúc ${time}`;
    $('#updated').hidden = false;
  }

  // ---------------------------------------------------------------- rendering: chart

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const CHART = { width: 560, labelWidth: 150, barMax: 330, row: 26, bar: 16, heading: 28 };

  function svg(name, attrs, text) {
    const el = document.createElementNS(SVG_NS, name);
    Object.entries(attrs || {}).forEach(([key, value]) => el.setAttribute(key, String(value)));
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function chartBars(report) {
    const byStatus = report.byMatchStatus.map((item) => ({
      attr: 'data-status', id: item.status, value: item.count,
      label: (STATUSES[item.status] || {}).label || item.status,
      color: (STATUSES[item.status] || {}).color || '#607d8b',
    }));
    const byList = LISTS.map((list) => ({
      attr: 'data-list', id: list.key, value: report[list.key].totalCount, label: list.label, color: list.color,
    }));
    return [
      { title: 'Theo trạng thái khớp', bars: byStatus },
      { title: 'Theo danh sách', bars: byList },
    ];
  }

  function drawBar(root, bar, y, scale) {
    const width = bar.value > 0 ? Math.max(2, bar.value * scale) : 0;
    const midY = y + CHART.bar / 2;
    root.append(svg('text', { x: CHART.labelWidth - 8, y: midY, class: 'bar-label' }, bar.label));
    const rect = svg('rect', {
      x: CHART.labelWidth, y, width: width.toFixed(1), height: CHART.bar, rx: 3, fill: bar.color,
      [bar.attr]: bar.id, 'data-value': bar.value,
    });
    rect.append(svg('title', {}, `${bar.label}: ${NUM.format(bar.value)}`));
    root.append(rect);
    root.append(svg('text', { x: CHART.labelWidth + width + 6, y: midY, class: 'bar-count' }, NUM.format(bar.value)));
  }

  function chartLabel(groups) {
    const parts = groups.flatMap((group) => group.bars.map((bar) => `${bar.label} ${NUM.format(bar.value)}`));
    return `Biểu đồ ghế CareSoft: ${parts.join(', ')}`;
  }

  function renderChart(report) {
    const groups = chartBars(report);
    const max = Math.max(1, ...groups.flatMap((group) => group.bars.map((bar) => bar.value)));
    const scale = CHART.barMax / max;
    const height = groups.reduce((sum, group) => sum + CHART.heading + group.bars.length * CHART.row, 0) + 4;
    const root = svg('svg', {
      id: 'seat-chart', role: 'img', 'aria-label': chartLabel(groups),
      viewBox: `0 0 ${CHART.width} ${height}`, width: CHART.width, height,
    });
    root.append(svg('title', {}, 'Phân bố ghế CareSoft'));
    let y = 0;
    groups.forEach((group) => {
      root.append(svg('text', { x: 0, y: y + 18, class: 'group-title' }, group.title));
      y += CHART.heading;
      group.bars.forEach((bar) => { drawBar(root, bar, y, scale); y += CHART.row; });
    });
    $('#chart').replaceChildren(root);
  }

  // ---------------------------------------------------------------- rendering: lists

  function employeeText(employee) {
    if (!employee) return '—';
    return employee.fullName ? `${employee.employeeCode} · ${employee.fullName}` : employee.employeeCode;
  }

  function rowCells(edge) {
    const agent = edge.node;
    return [agent.id, agent.username, agent.email, agent.phoneNo, agent.groupName, employeeText(agent.employee), edge.reason];
  }

  // Lowercase, without diacritics, đ as d: "Nguyễn Đức" -> "nguyen duc".
  function fold(text) {
    return String(text).normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
  }

  function searchText(edge) {
    const employee = edge.node.employee || {};
    const parts = rowCells(edge).slice(0, 5).concat([employee.employeeCode, employee.fullName, edge.reason]);
    return fold(parts.filter((part) => part != null).join(' '));
  }

  function buildRow(edge) {
    const tr = document.createElement('tr');
    tr.dataset.agentId = edge.node.id;
    rowCells(edge).forEach((value) => {
      const td = document.createElement('td');
      td.textContent = value == null || value === '' ? '—' : String(value);
      tr.append(td);
    });
    return tr;
  }

  function renderList(list, connection) {
    const section = document.querySelector(`[data-section="${list.key}"]`);
    const fragment = document.createDocumentFragment();
    state.rows[list.key] = connection.edges.map((edge) => {
      const tr = buildRow(edge);
      fragment.append(tr);
      return { tr, text: searchText(edge) };
    });
    section.querySelector(`tbody[data-list="${list.key}"]`).replaceChildren(fragment);
    section.querySelector('.empty').hidden = connection.edges.length > 0;
    section.querySelector('.table-wrap').hidden = connection.edges.length === 0;
    renderCapNote(section, connection);
  }

  function renderCapNote(section, connection) {
    const note = section.querySelector('.capped');
    const shown = connection.edges.length;
    note.hidden = shown >= connection.totalCount;
    note.textContent = `Hiển thị ${NUM.format(shown)} / ${NUM.format(connection.totalCount)} ghế — tải CSV để xem đủ`;
  }

  function render(report) {
    renderSummary(report);
    renderChart(report);
    LISTS.forEach((list) => renderList(list, report[list.key]));
    applyFilter();
    stampTime();
  }

  // ---------------------------------------------------------------- search

  // Shows the rows matching the search box and re-stripes the visible ones.
  function filterList(listKey, query) {
    let shown = 0;
    (state.rows[listKey] || []).forEach(({ tr, text }) => {
      const match = !query || text.includes(query);
      tr.hidden = !match;
      if (match) tr.classList.toggle('alt', shown++ % 2 === 1);
    });
    return shown;
  }

  function applyFilter() {
    const query = fold($('#search').value.trim());
    LISTS.forEach((list) => {
      const shown = filterList(list.key, query);
      const counter = document.querySelector(`[data-section="${list.key}"] .filter-count`);
      counter.hidden = !query;
      counter.textContent = `${NUM.format(shown)} kết quả`;
    });
  }

  function debounce(fn, ms) {
    let timer = 0;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // ---------------------------------------------------------------- CSV

  function saveBlob(blob, filename) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  async function downloadCsv() {
    const button = $('#csv-button');
    button.disabled = true;
    try {
      const res = await fetch(`/seats/seat-report.csv?idleDays=${readIdleDays()}`, { headers: authHeaders() });
      if (res.status === 401) throw new AuthError();
      if (!res.ok) throw new Error((await res.text()).trim() || `Máy chủ trả lời ${res.status}`);
      saveBlob(await res.blob(), 'seat-report.csv');
    } catch (err) {
      handleError(err);
    } finally {
      button.disabled = false;
    }
  }

  // ---------------------------------------------------------------- wiring

  function onTokenSubmit(event) {
    event.preventDefault();
    const token = $('#token-input').value.trim();
    if (!token) return;
    storeToken(token);
    $('#token-input').value = '';
    $('#token-form').hidden = true;
    load();
  }

  function start() {
    readToken();
    $('#controls').addEventListener('submit', (event) => { event.preventDefault(); load(); });
    $('#csv-button').addEventListener('click', downloadCsv);
    $('#token-form').addEventListener('submit', onTokenSubmit);
    $('#search').addEventListener('input', debounce(applyFilter, 120));
    window.addEventListener('hashchange', () => { if (takeTokenFromHash()) load(); });
    load();
  }

  start();
})();
